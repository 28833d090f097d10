"""The console's map: Web-Mercator view, offline basemap, live vehicles and alarms.

Plain-Python modules (:mod:`desktop.map.projection`, :mod:`desktop.map.vehicles`,
:mod:`desktop.map.basemap`) know nothing about widgets; :mod:`desktop.map.view` draws
them with pyqtgraph and :mod:`desktop.map.tiles` adds optional raster tile layers.
"""
