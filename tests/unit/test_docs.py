"""The user guides say what the code does: generated parts of the docs match their source."""

import re
from pathlib import Path

from services.registry.imports.template_file import template_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_registry_guide_lists_every_import_column_as_the_importer_reads_it():
    guide = (ROOT / "docs" / "registry.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- template-columns:[^>]*-->\n(.*?)\n<!-- /template-columns -->", guide, re.S)
    assert block, "docs/registry.md lost its template-columns block"
    assert block.group(1) == template_markdown(), (
        "docs/registry.md is out of date: regenerate the block with python -m services.registry.imports.template_file"
    )


def test_the_readme_says_why_each_dependency_is_there():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + [d for group in project["optional-dependencies"].values() for d in group]
    names = {re.split(r"[\[<>=~ ]", d, maxsplit=1)[0].lower() for d in wanted}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Dependencies and why each is here", 1)[1].split("\n## ", 1)[0]
    named = {
        n.strip().split(" ")[0].split("[")[0].lower()
        for row in section.splitlines()[3:]
        if row.startswith("| ")
        for n in row.split("|")[1].split(",")
    }
    assert names <= named, f"README's dependency table lacks {sorted(names - named)}"
