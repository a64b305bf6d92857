"""Expands the JSON-LD documents Ruche sends, offline, and reports every
term a JSON-LD reader would not understand.

Usage: python3 jsonld_check.py DOCUMENTS.json
DOCUMENTS.json holds a list of documents. The ActivityStreams context maps
unknown terms to blank-node IRIs (its "@vocab" is "_:"), so an undefined
term does not vanish on expansion: it becomes "_:term", which no reader
understands. A compact IRI with an undeclared prefix ("litepub:EmojiReact"
without "litepub") stays as an IRI of scheme "litepub:". Both are reported,
for properties and for types. Contexts are read from fixtures/contexts
(copies of the W3C documents), never from the network.
"""

import json
import pathlib
import sys

from pyld import jsonld

CONTEXTS = pathlib.Path(__file__).parent / "fixtures" / "contexts"
KNOWN = {
    "https://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
}


def loader(url, options=None):
    name = KNOWN.get(url)
    if name is None:
        raise jsonld.JsonLdError(
            "context not available offline: " + url,
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading remote context failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads((CONTEXTS / name).read_text()),
    }


def understood(iri):
    return iri.startswith("@") or iri.startswith("http://") or iri.startswith("https://")


def problems(node, path, out):
    if isinstance(node, list):
        for i, item in enumerate(node):
            problems(item, f"{path}[{i}]", out)
    elif isinstance(node, dict):
        for key, value in node.items():
            if not understood(key):
                out.append(f"{path}: property {key!r} is not defined")
            if key == "@type":
                for t in value if isinstance(value, list) else [value]:
                    if not understood(t):
                        out.append(f"{path}: type {t!r} is not defined")
            if key != "@value":
                problems(value, f"{path}/{key}", out)


def main():
    docs = json.loads(pathlib.Path(sys.argv[1]).read_text())
    failures = []
    for doc in docs:
        label = f"{doc.get('type')} {doc.get('id')}"
        try:
            expanded = jsonld.expand(doc, {"documentLoader": loader})
        except jsonld.JsonLdError as e:
            failures.append(f"{label}: expansion failed: {e}")
            continue
        found = []
        problems(expanded, "", found)
        failures.extend(f"{label}{p}" for p in found)
    for f in failures:
        print(f)
    print(f"{len(docs)} documents expanded, {len(failures)} problems")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
