"""Data the project ships: handbook entries and the register of sources they cite, quiz banks,
abbreviations, synonyms and message texts."""

from pathlib import Path

CONTENT_DIR = Path(__file__).resolve().parent
HANDBOOK_DIR = CONTENT_DIR / "handbook"
ABBREVIATIONS_FILE = CONTENT_DIR / "abbreviations.tsv"
SYNONYMS_FILE = CONTENT_DIR / "synonyms.tsv"
SOURCES_FILE = CONTENT_DIR / "sources.yaml"
