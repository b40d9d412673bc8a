"""Start a server programmatically, the way applications embed it.

    python launch.py run APP [key=value ...]      uvicorn.run(APP, **options)
    python launch.py server APP [key=value ...]   Server(Config(APP, **options)).run()

Values are read as Python literals where they are one (`port=8000`,
`reload=True`, `log_config=None`), else as strings (`host=127.0.0.1`).
The app is passed as an import string, so it is imported the way uvicorn
imports it (workers, reload) and not by this script.
"""

import ast
import sys


def _options(pairs):
    options = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise SystemExit("launch.py: expected key=value, got %r" % pair)
        try:
            options[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            options[key] = text
    return options


def main(argv):
    if len(argv) < 2 or argv[0] not in ("run", "server"):
        raise SystemExit(__doc__)
    how, app, options = argv[0], argv[1], _options(argv[2:])
    import uvicorn

    if how == "run":
        uvicorn.run(app, **options)
    else:
        uvicorn.Server(uvicorn.Config(app, **options)).run()


if __name__ == "__main__":
    main(sys.argv[1:])
