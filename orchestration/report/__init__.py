"""The HTML report: what a marketer or analyst came for, drawn from the warehouse.

    ciw report [--out data/report/index.html]

One static page (plotly figures with their JavaScript embedded, so it opens offline) in
sections: overview, value, needs, journey, activation, measurement, data quality. The modules
split the work: `data` reads the warehouse (read-only), `figures` turns frames into figures,
`sections` decides what each section shows (and says "not provided" when a source is
missing), `render` writes the page from the Jinja2 template, `build` is the command.
"""
