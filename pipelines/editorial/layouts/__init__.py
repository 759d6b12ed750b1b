"""One module per layout an issue file comes in; :mod:`pipelines.editorial.importer`
detects which one a file is in and stores what it reads."""
