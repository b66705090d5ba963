"""The Allegro REST API adapter: the real `engine.ports.Allegro` implementation (`AllegroClient`)."""
