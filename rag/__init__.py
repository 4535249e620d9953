"""Question answering over AI research papers, every claim cited."""

import importlib

# Each public name and the module defining it, imported on first use: `import rag.cli` (every `rag` command)
# then loads only what its command needs, and `rag ask` can set up before the heavy imports.
_DEFINED_IN = {
    "Answer": "rag.types", "AnswerStream": "rag.types", "Assistant": "rag.assistant",
    "ChromaUnavailableError": "rag.index", "Citation": "rag.types", "FilterError": "rag.types",
    "Filters": "rag.types", "MissingIndexError": "rag.index", "ModelMismatchError": "rag.index",
    "ModelNotFoundError": "rag.embedding", "QuestionError": "rag.types", "RagError": "rag.errors",
    "RagIndexError": "rag.index", "RagSettings": "rag.config", "Source": "rag.types", "Turn": "rag.types",
    "ask": "rag.assistant", "ask_stream": "rag.assistant", "load_settings": "rag.config",
    "retrieve": "rag.assistant",
}

__all__ = sorted(_DEFINED_IN)


def __getattr__(name: str):
    if name not in _DEFINED_IN:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_DEFINED_IN[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
