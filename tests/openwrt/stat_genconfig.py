#!/usr/bin/env python3
"""The <Plugin ...> block that OpenWrt would write into /tmp/collectd.conf for one UCI section.

Two generators exist on a router, and both read a JSON file that the package ships:

  luci     luci-app-statistics' /usr/libexec/stat-genconfig, generic rules, driven by
           /usr/share/luci/statistics/plugins/<name>.json {"legend": [singles, bools, lists]}:
             singles: `Key value`; the value is quoted unless it is all digits, or contains
                      only word characters (letters, digits, _);
             bools:   '1' -> `Key true`, '0' -> `Key false`, anything else -> nothing;
             lists:   each value (a UCI list, or an option split on whitespace) on its own line
                      under the singular key: Protocols -> Protocol, Addresses -> Address.
  collectd collectd's own /etc/init.d/collectd (process_generic), driven by
           /usr/share/collectd/plugin/<name>.json {"string": [...], "bool": [...], "list": [...]}:
             strings `Key "value"` (always quoted), bools `Key true|false`, each list value
             `Key "value"` under the key as written.

Empty or missing options give no line; a plugin with no line gets no <Plugin> block.

  stat_genconfig.py luci|collectd PLUGIN_JSON UCI_FILE [SECTION]

UCI_FILE is in `uci export` syntax (config/option/list lines, values in quotes). SECTION
defaults to the first section in the file; its name (collectd_<plugin> for luci, <plugin> for
collectd) gives the plugin's name.
"""
import json
import re
import shlex
import sys


def fail(message):
    print(f"stat_genconfig.py: {message}", file=sys.stderr)
    sys.exit(2)


def read_uci(path, wanted):
    """{option: str | [str]} of one section of a uci export file, and the section's name."""
    sections, current = {}, None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            words = shlex.split(line, comments=True)
            if not words:
                continue
            where = f"{path}:{number}"
            if words[0] == "package":
                continue
            if words[0] == "config":
                if len(words) != 3:
                    fail(f"{where}: expected: config TYPE 'NAME'")
                current = sections.setdefault(words[2], {})
            elif words[0] in ("option", "list"):
                if current is None or len(words) != 3:
                    fail(f"{where}: expected: {words[0]} KEY 'VALUE' inside a config section")
                key, value = words[1], words[2]
                if words[0] == "option":
                    current[key] = value
                else:
                    current.setdefault(key, [])
                    if not isinstance(current[key], list):
                        fail(f"{where}: {key} is both an option and a list")
                    current[key].append(value)
            else:
                fail(f"{where}: unknown line: {line.strip()}")
    if not sections:
        fail(f"{path}: no config section")
    name = wanted or next(iter(sections))
    if name not in sections:
        fail(f"{path}: no section '{name}' (have: {', '.join(sections)})")
    return name, sections[name]


def luci_string(key, value):
    if not value:
        return ""
    value = value.strip()
    if key in ("Port", "Irq") or re.search(r"[^0-9]", value):
        if not re.search(r"[^\w]", value) and key not in ("Port", "Irq"):
            return f"\t{key} {value}\n"
        return f'\t{key} "{value}"\n'
    return f"\t{key} {value}\n"


def luci_bool(key, value):
    return {"1": f"\t{key} true\n", "0": f"\t{key} false\n"}.get(value, "")


def luci_singular(key):
    m = re.fullmatch(r"(\w+)ses", key)
    return f"{m.group(1)}s" if m else re.sub(r"^(\w+)s$", r"\1", key)


def generate_luci(plugin_json, section):
    legend = plugin_json.get("legend")
    if not (isinstance(legend, list) and len(legend) == 3 and all(isinstance(x, list) for x in legend)):
        fail('the LuCI plugin JSON needs "legend": [[singles], [bools], [lists]]')
    singles, bools, lists = legend
    out = "".join(luci_string(k, section.get(k)) for k in singles if isinstance(section.get(k, ""), str))
    out += "".join(luci_bool(k, section.get(k)) for k in bools)
    for key in lists:
        values = section.get(key)
        if not values:
            continue
        if isinstance(values, str):
            values = values.split()
        out += "".join(luci_string(luci_singular(key), v) for v in values)
    return out


def generate_collectd(plugin_json, section):
    for kind in plugin_json:
        if kind not in ("string", "bool", "list"):
            fail(f'unknown key "{kind}" in the collectd plugin JSON; collectd\'s init script reads "string", "bool", "list"')
    out = ""
    for key in plugin_json.get("string", []):
        value = section.get(key)
        if isinstance(value, str) and value:
            out += f'\t{key} "{value}"\n'
    for key in plugin_json.get("bool", []):
        value = {"1": "true", "yes": "true", "on": "true", "true": "true", "enabled": "true",
                 "0": "false", "no": "false", "off": "false", "false": "false", "disabled": "false"}.get(
                     str(section.get(key, "")).lower())
        if value:
            out += f"\t{key} {value}\n"
    for key in plugin_json.get("list", []):
        values = section.get(key, [])
        for v in [values] if isinstance(values, str) else values:
            out += f'\t{key} "{v}"\n'
    return out


def main(argv):
    if len(argv) not in (4, 5) or argv[1] not in ("luci", "collectd"):
        fail("usage: stat_genconfig.py luci|collectd PLUGIN_JSON UCI_FILE [SECTION]")
    mode, json_path, uci_path = argv[1:4]
    try:
        with open(json_path, encoding="utf-8") as f:
            plugin_json = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{json_path}: {e}")
    name, section = read_uci(uci_path, argv[4] if len(argv) == 5 else None)
    if mode == "luci":
        plugin = name.removeprefix("collectd_")
        if plugin == name:
            fail(f"section '{name}': luci-app-statistics names it collectd_<plugin>")
        enabled = section.get("enable") == "1"
        body = generate_luci(plugin_json, section)
    else:
        plugin = name
        enabled = section.get("enable") in ("1", "yes", "on", "true", "enabled")
        body = generate_collectd(plugin_json, section)
    if not enabled:
        return 0
    print(f"LoadPlugin {plugin}")
    if body:
        print(f"<Plugin {plugin}>\n{body}</Plugin>")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
