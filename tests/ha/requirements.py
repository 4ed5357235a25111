"""Print the PyPI requirements of the integrations a minimal Home Assistant
loads: those of tests/ha (configuration.yaml), HA's default ones, and their
dependencies, as HA's manifests pin them. Home Assistant would pip-install
them itself on its first start; setup installs them once, so the tests start
HA with --skip-pip and never reach PyPI."""
import json
import pathlib

import homeassistant.bootstrap as bootstrap
import homeassistant.components as components

ROOT = pathlib.Path(components.__file__).parent
# config and mqtt: the MQTT test sets up HA's MQTT integration through the config-flow API.
CONFIGURED = ["homeassistant", "http", "api", "websocket_api", "onboarding", "recorder", "config", "mqtt"]

todo = CONFIGURED + sorted(bootstrap.DEFAULT_INTEGRATIONS) + sorted(bootstrap.DEFAULT_INTEGRATIONS_RECOVERY_MODE)
seen, requirements = set(), set()
while todo:
    domain = todo.pop()
    if domain in seen or not (ROOT / domain / "manifest.json").is_file():
        continue
    seen.add(domain)
    manifest = json.loads((ROOT / domain / "manifest.json").read_text())
    requirements.update(manifest.get("requirements", []))
    todo += manifest.get("dependencies", []) + manifest.get("after_dependencies", [])
print("\n".join(sorted(requirements)))
