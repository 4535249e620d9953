"""Question answering over AI research papers, every claim cited."""

from rag.assistant import Assistant, ask, ask_stream, retrieve
from rag.config import RagSettings, load_settings
from rag.types import Answer, Citation, Filters, QuestionError, Source

__all__ = ["Answer", "Assistant", "Citation", "Filters", "QuestionError", "RagSettings", "Source", "ask", "ask_stream",
           "load_settings", "retrieve"]
