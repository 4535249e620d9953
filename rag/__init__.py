"""Question answering over AI research papers, every claim cited."""

from rag.assistant import Assistant, ask, ask_stream, retrieve
from rag.config import RagSettings, load_settings
from rag.embedding import ModelNotFoundError
from rag.errors import RagError
from rag.index import ChromaUnavailableError, MissingIndexError, ModelMismatchError, RagIndexError
from rag.types import Answer, AnswerStream, Citation, FilterError, Filters, QuestionError, Source, Turn

__all__ = ["Answer", "AnswerStream", "Assistant", "ChromaUnavailableError", "Citation", "FilterError", "Filters",
           "MissingIndexError", "ModelMismatchError", "ModelNotFoundError", "QuestionError", "RagError", "RagIndexError",
           "RagSettings", "Source", "Turn", "ask", "ask_stream", "load_settings", "retrieve"]
