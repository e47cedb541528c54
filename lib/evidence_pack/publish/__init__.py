"""Publishing: report rules for notebooks, the papermill build, HTML/PDF rendering, the index."""
