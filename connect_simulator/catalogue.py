"""Fixed vocabularies the generator draws from: app modes, runtime versions, names,
titles (including non-ASCII and HTML-special ones), tags and R/Python packages.

Weights are relative frequencies, chosen to resemble what real Connect servers hold.
"""

from __future__ import annotations

# app_mode -> (weight, runtime family). Family: "r", "py", "quarto", "none".
# "unknown" is content that was created but never deployed.
APP_MODES: dict[str, tuple[float, str]] = {
    "rmd-static": (20, "r"),
    "shiny": (18, "r"),
    "quarto-static": (9, "quarto"),
    "static": (7, "none"),
    "api": (6, "r"),
    "python-api": (3, "py"),
    "python-fastapi": (4, "py"),
    "jupyter-static": (5, "py"),
    "python-dash": (4, "py"),
    "python-streamlit": (4, "py"),
    "python-shiny": (3, "py"),
    "rmd-shiny": (3, "r"),
    "quarto-shiny": (1, "quarto"),
    "python-bokeh": (1, "py"),
    "jupyter-voila": (1, "py"),
    "python-gradio": (0.5, "py"),
    "python-panel": (0.5, "py"),
    "tensorflow-saved-model": (0.5, "none"),
    "unknown": (5, "none"),
}

# Modes whose usage is recorded as Shiny sessions rather than visits.
SHINY_MODES = frozenset({"shiny", "rmd-shiny", "quarto-shiny", "python-shiny"})
# Rendered documents: visits carry a variant key and rendering id.
RENDERED_MODES = frozenset({"rmd-static", "quarto-static", "jupyter-static"})

# (version, weight): old versions stay in use on real servers for years.
R_VERSIONS = [("3.5.3", 2), ("3.6.3", 4), ("4.0.5", 6), ("4.1.3", 10), ("4.2.3", 14),
              ("4.3.2", 16), ("4.3.3", 6), ("4.4.1", 8), ("4.4.2", 4), ("4.5.0", 2)]
PY_VERSIONS = [("3.6.15", 1), ("3.7.16", 3), ("3.8.17", 6), ("3.9.17", 10), ("3.10.13", 12),
               ("3.11.6", 12), ("3.11.9", 4), ("3.12.4", 6), ("3.13.1", 2)]
QUARTO_VERSIONS = [("1.2.475", 3), ("1.3.340", 5), ("1.3.450", 6), ("1.4.549", 8),
                   ("1.5.57", 6), ("1.6.39", 3)]
# Installed on the server: most, not all, of the versions content uses.
SERVER_R = ["3.6.3", "4.1.3", "4.2.3", "4.3.2", "4.3.3", "4.4.1", "4.4.2"]
SERVER_PY = ["3.8.17", "3.9.17", "3.10.13", "3.11.6", "3.11.9", "3.12.4"]
SERVER_QUARTO = ["1.3.450", "1.4.549", "1.5.57"]

FIRST_NAMES = ["Alice", "Bob", "Carlos", "Dana", "Erin", "Farid", "Grace", "Hiro", "Ines",
               "Jamal", "Kim", "Lars", "Maya", "Nikolai", "Olga", "Priya", "Quentin", "Rosa",
               "Sven", "Tomás", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoë", "José",
               "Søren", "Łukasz", "Chloé", "Aoife", "Dmitri", "Fatima", "Björn", "Mei"]
LAST_NAMES = ["Smith", "Garcia", "Müller", "Nguyen", "Kowalski", "O'Brien", "Rossi", "Tanaka",
              "Johansson", "Dubois", "Patel", "Silva", "Kim", "Novak", "Schmidt", "Haddad",
              "Ivanova", "Andersen", "López", "Chen", "Brown", "Okafor", "Nakamura", "Weiß"]

TITLE_SUBJECTS = ["Sales", "Revenue", "Churn", "Forecast", "Inventory", "Marketing", "Clinical trial",
                  "Supply chain", "Customer", "Fraud", "Pricing", "HR", "Logistics", "Risk",
                  "Données clients", "Umsätze", "Ventas por región", "売上", "Qualität",
                  "R&D", "P&L", "Säännöt"]
TITLE_KINDS = {
    "r": ["Dashboard", "Report", "Explorer", "API", "Model", "Monitor"],
    "py": ["Dashboard", "API", "Notebook", "App", "Service", "Model"],
    "quarto": ["Report", "Slides", "Book", "Dashboard"],
    "none": ["Site", "Docs", "Model", "Page"],
}
# Titles that exercise escaping: every HTML output must escape them.
SPECIAL_TITLES = ["Q3 <beta> report", 'The "quick" look & feel', "O'Reilly's <b>bold</b> plan",
                  "5 < 6 > 4 & friends", "Ünïcödé ✓ dashboard 📈", "مبيعات الربع الثالث"]

# Tag tree: category -> tags (categories themselves cannot be assigned to content).
TAG_TREE = {
    "Department": ["Finance", "Marketing", "Data Science", "Operations", "Recherche & Développement"],
    "Lifecycle": ["Dev", "Staging", "Prod", "Deprecated"],
    "Topic": ["Forecasting", "Reporting", "Machine learning", "Geospatial", "Monitoring"],
}

RUN_AS_USERS = ["svc-reports", "etl-runner", "analytics", "rstudio-connect-ldap"]

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "python-requests/2.32.3",
    "curl/8.5.0",
]
API_PATHS = ["/", "/predict", "/health", "/__docs__/", "/data"]

# (name, version, weight). Packages with system requirements are listed first in each
# list so they are easy to spot; weights make them a realistic minority.
R_PACKAGES_COMMON = [
    ("rmarkdown", "2.27"), ("knitr", "1.47"), ("jsonlite", "1.8.8"), ("rlang", "1.1.4"),
    ("dplyr", "1.1.4"), ("ggplot2", "3.5.1"), ("tidyr", "1.3.1"), ("readr", "2.1.5"),
    ("stringi", "1.8.4"), ("Rcpp", "1.0.12"), ("data.table", "1.15.4"), ("httr", "1.4.7"),
    ("askpass", "1.2.1"), ("backports", "1.5.0"), ("base64enc", "0.1-3"), ("lubridate", "1.9.3"),
    ("purrr", "1.0.2"), ("DT", "0.33"), ("scales", "1.3.0"), ("htmltools", "0.5.8.1"),
]
R_PACKAGES_BY_MODE = {
    "shiny": [("shiny", "1.8.1.1"), ("bslib", "0.7.0"), ("plotly", "4.10.4"), ("leaflet", "2.2.2")],
    "api": [("plumber", "1.2.2"), ("webutils", "1.2.0")],
}
R_PACKAGES_SYSREQ = [
    ("sf", "1.0-16", 8), ("terra", "1.7-78", 5), ("rgdal", "1.6-7", 2), ("xml2", "1.3.6", 25),
    ("curl", "5.2.1", 35), ("openssl", "2.2.0", 35), ("RPostgres", "1.4.7", 6), ("odbc", "1.5.0", 8),
    ("rJava", "1.0-11", 3), ("magick", "2.8.3", 4), ("textshaping", "0.4.0", 10), ("ragg", "1.3.2", 10),
    ("units", "0.8-5", 6), ("gert", "2.0.1", 3),
]
PY_PACKAGES_COMMON = [
    ("numpy", "1.26.4"), ("pandas", "2.2.2"), ("requests", "2.32.3"), ("python-dateutil", "2.9.0"),
    ("pytz", "2024.1"), ("six", "1.16.0"), ("urllib3", "2.2.2"), ("certifi", "2024.7.4"),
    ("idna", "3.7"), ("charset-normalizer", "3.3.2"), ("plotly", "5.22.0"), ("pyyaml", "6.0.1"),
]
PY_PACKAGES_BY_MODE = {
    "python-api": [("flask", "3.0.3"), ("werkzeug", "3.0.3"), ("gunicorn", "22.0.0")],
    "python-fastapi": [("fastapi", "0.111.0"), ("uvicorn", "0.30.1"), ("pydantic", "2.7.4")],
    "python-dash": [("dash", "2.17.1"), ("flask", "3.0.3")],
    "python-streamlit": [("streamlit", "1.36.0"), ("altair", "5.3.0")],
    "python-shiny": [("shiny", "0.10.2"), ("htmltools", "0.5.2")],
    "jupyter-static": [("jupyter", "1.0.0"), ("nbconvert", "7.16.4"), ("matplotlib", "3.9.0")],
    "jupyter-voila": [("voila", "0.5.7"), ("ipywidgets", "8.1.3")],
    "python-bokeh": [("bokeh", "3.4.2")],
    "python-gradio": [("gradio", "4.37.2")],
    "python-panel": [("panel", "1.4.4")],
}
PY_PACKAGES_SYSREQ = [
    ("psycopg2", "2.9.9", 10), ("mysqlclient", "2.2.4", 4), ("pyodbc", "5.1.0", 6),
    ("GDAL", "3.8.4", 3), ("lxml", "5.2.2", 12), ("scikit-learn", "1.5.0", 15),
]
