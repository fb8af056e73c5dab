"""Stage 6 (surface): the analyst's web app, built with Streamlit on :class:`skillmap.Extractor`.

Modules: ``uploads`` (files -> ads, with limits), ``catalog`` (installed indexes and filters),
``resources`` (cached models), ``tables`` and ``charts`` (pure pandas/plotly), ``render``
(escaped HTML), one module per view (``single_ad``, ``corpus``, ``taxonomy_view``),
``settings`` (the sidebar), ``main`` (the page) and ``launcher`` (``skillmap app``).
Importing this package does not import Streamlit.
"""
