"""The live page's building blocks.

``charts``: pure functions from plain data to Plotly figures; ``controls``: the
sliders and switches and the scenario paths they set; ``data``: plain data out
of a live model; ``components``: the Solara components and the page.
``sim/app.py`` puts them together for ``solara run``.
"""
