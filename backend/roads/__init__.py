"""The road layer: imported from OSM extracts and GeoPackages, stored as segments, served
to consoles by box and class, and turned into the recommendation's road graph."""
