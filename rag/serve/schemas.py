"""The request bodies the API accepts, as pydantic models (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ChatMessage", "ChatRequest", "IngestRequest", "SearchRequest", "TextPart"]


class TextPart(BaseModel):
    """One part of a message's content in OpenAI's list form; only text parts are read."""

    type: Literal["text"] = "text"
    text: str = Field(max_length=1 << 20)


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat completion request. Earlier messages are the conversation; the last is the question.

    ``temperature``, ``max_tokens``, ``top_p`` and other sampling fields are accepted and ignored:
    the server's settings (``rag serve --temperature/--max-tokens``) apply to every answer.
    """

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    n: int = Field(default=1, ge=1, le=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    top_k: int | None = Field(default=None, ge=1, le=50, description="sources retrieved (rag extension)")


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    top_k: int | None = Field(default=None, ge=1, le=100)
    mode: Literal["dense", "bm25", "hybrid"] | None = None
    where: str | None = Field(default=None, max_length=1000, description="glob on file path or name")


class IngestRequest(BaseModel):
    paths: list[str] = Field(min_length=1, max_length=100, description="files or folders under an --allow-dir")
