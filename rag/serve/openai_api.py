"""The OpenAI-compatible routes: ``GET /v1/models`` and ``POST /v1/chat/completions`` (JSON or SSE).

The reply is OpenAI's shape, so OpenAI clients work unchanged; the whole ``rag ask --json``
document rides along under the key ``rag`` (of the response, or of a stream's last chunk) with
the citations and claim checks. A stream carries the model's reply as it is generated; when
checking replaces that reply (a source passage quoted instead, or an abstention), the last chunk
adds the checked answer after a note, and ``rag.answer`` is always the answer to show.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from indexes.errors import RagError
from rag.records import Answer
from rag.serve.answers import AnswerQueue, turns_from
from rag.serve.errors import APIError
from rag.serve.schemas import ChatRequest
from rag.serve.settings import ServeSettings

__all__ = ["openai_router"]

log = logging.getLogger(__name__)

_NOTES = {"quote": "(Checked against the sources, the reply above does not hold; the passage that answers:)",
          "abstained": "(Checked against the sources, the reply above does not hold:)"}


def openai_router(queue: AnswerQueue, settings: ServeSettings) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["openai"])
    started = int(time.time())

    @router.get("/models")
    async def models() -> dict[str, Any]:
        """The one model this server answers with."""
        return {"object": "list", "data": [{"id": settings.model_name, "object": "model", "created": started,
                                            "owned_by": "rag"}]}

    @router.post("/chat/completions", response_model=None)
    async def chat_completions(request: ChatRequest) -> JSONResponse | StreamingResponse:
        """Answer the last user message from the documents, with ``[n]`` citations and the ``rag`` document."""
        if request.model not in (settings.model_name, "rag"):
            raise APIError(404, "model_not_found", f"model {request.model!r} is not served here; GET /v1/models "
                           f"lists {settings.model_name!r}", param="model")
        turns = turns_from(request.messages, max_chars=settings.max_question_chars,
                           max_messages=settings.max_messages)
        items = queue.stream(turns, request.top_k)
        meta = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": request.model}
        if not request.stream:
            answer = await _last(items)
            return JSONResponse({**meta, "object": "chat.completion", "choices": [{
                "index": 0, "message": {"role": "assistant", "content": answer.text}, "finish_reason": "stop",
                "logprobs": None}], "rag": answer.to_json()})
        first = await anext(items)  # errors before the first piece (an empty question...) stay HTTP errors
        return StreamingResponse(_events(meta, first, items), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return router


async def _last(items: AsyncIterator[str | Answer]) -> Answer:
    answer: Answer | None = None
    async for item in items:
        if isinstance(item, Answer):
            answer = item
    assert answer is not None  # every stream ends with an Answer
    return answer


def _chunk(meta: dict[str, Any], delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
    body = {**meta, "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def _events(meta: dict[str, Any], first: str | Answer, items: AsyncIterator[str | Answer]) -> AsyncIterator[str]:
    yield _chunk(meta, {"role": "assistant", "content": ""})
    shown: list[str] = []
    try:
        item = first
        while not isinstance(item, Answer):
            shown.append(item)
            yield _chunk(meta, {"content": item})
            item = await anext(items)
    except Exception as exc:  # after the headers went out: an error event, then the end
        code = getattr(exc, "code", "internal_error")
        message = exc.message if isinstance(exc, RagError | APIError) else "internal error; see the server log"
        if not isinstance(exc, RagError | APIError):
            log.exception("answer failed mid-stream")
        yield f"data: {json.dumps({'error': {'message': message, 'type': 'server_error', 'code': code}})}\n\n"
        yield "data: [DONE]\n\n"
        return
    yield _chunk(meta, {"content": _correction(item, "".join(shown))}, "stop", rag=item.to_json())
    yield "data: [DONE]\n\n"


def _correction(answer: Answer, shown: str) -> str:
    """What the last chunk adds so the streamed text ends with the checked answer."""
    if answer.grounding == "model" or shown.strip() == answer.text.strip():
        return ""
    return f"\n\n{_NOTES['quote' if answer.grounding == 'quote' else 'abstained']}\n{answer.text}"
