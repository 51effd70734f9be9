"""pgcli's start-up, special commands and completion, through its own modules, against one server;
prints JSON. pgcli is an interactive program; its PGCli class does what the terminal front end does
(connect, run statements and backslash commands), and the completion refreshers are the queries it
runs in the background to fill its completions (run here one after another, so an error shows).

Usage: python3 pgcli_session.py HOST PORT USER DATABASE SCHEMA
Set HOME to a scratch directory: pgcli writes its configuration and history there.
"""
import json
import sys

from pgcli.completion_refresher import CompletionRefresher
from pgcli.main import PGCli
from pgcli.pgcompleter import PGCompleter
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

host, port, user, database, schema = sys.argv[1:6]
out = {}

cli = PGCli(never_passwd_prompt=True, less_chatty=True)
cli.connect(database=database, host=host, user=user, port=port)
out["startup"] = {"server_version_major": cli.pgexecute.server_version.split(".")[0],
                  "search_path": cli.pgexecute.search_path()}


def run(text):
    """Like typing `text` at pgcli's prompt: every result's title, headers, rows and status."""
    results = []
    for title, cur, headers, status, _sql, success, _special in cli.pgexecute.run(
            text, pgspecial=cli.pgspecial, exception_formatter=lambda e: str(e).splitlines()[0]):
        rows = [list(map(str, r)) for r in cur] if cur is not None and not isinstance(cur, str) else cur
        results.append({"title": title, "headers": list(headers or []), "rows": rows, "status": status, "ok": success})
    return results


for command in (f"\\dt {schema}.*", f"\\dv {schema}.*", f"\\di {schema}.*", f"\\dn {schema}", f"\\d {schema}.orders"):
    out[command] = run(command)

completer = PGCompleter(smart_completion=True, pgspecial=cli.pgspecial, settings={})
refresh_errors = {}
for name, refresher in CompletionRefresher.refreshers.items():
    if name == "casing":
        continue
    try:
        refresher(completer, cli.pgexecute)
    except Exception as e:  # in pgcli this kills the background refresh and completion silently stays empty
        refresh_errors[name] = f"{type(e).__name__}: {str(e).splitlines()[0]}"
out["refresh_errors"] = refresh_errors


def complete(text, kinds):
    """The completions of these kinds pgcli offers with the cursor at the end of `text`."""
    found = {}
    for c in completer.get_completions(Document(text=text, cursor_position=len(text)), CompleteEvent()):
        if (c.display_meta_text or "") in kinds:
            found.setdefault(c.display_meta_text, []).append(c.text)
    return {k: sorted(v) for k, v in sorted(found.items())}


out["complete.tables"] = complete(f"SELECT * FROM {schema}.", ("table", "view", "function"))
out["complete.columns"] = complete(f"SELECT * FROM {schema}.customers WHERE ", ("column",))
out["complete.join"] = complete(f"SELECT * FROM {schema}.orders o JOIN {schema}.", ("join", "fk join", "table"))
out["complete.join_condition"] = complete(f"SELECT * FROM {schema}.orders o JOIN {schema}.customers c ON ", ("fk join", "join"))
out["complete.functions"] = complete(f"SELECT {schema}.", ("function",))
print(json.dumps(out, indent=1, sort_keys=True, default=str))
