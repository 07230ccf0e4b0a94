"""Fuse an exported transformer graph into ONNX Runtime's BERT operators before it is run or quantised.

``torch.onnx.export`` writes attention as a dozen small nodes per layer (reshapes, transposes,
two matrix products, scaling, mask, softmax) and layer norm and GELU as chains of elementwise
nodes. ONNX Runtime's transformer optimizer (``onnxruntime.transformers.optimizer``, shipped in
the onnxruntime wheel) pattern-matches those chains into single kernels: ``Attention``,
``EmbedLayerNormalization``, ``SkipLayerNormalization`` and ``BiasGelu``. Quantised afterwards,
the fused ``Attention`` becomes ``QAttention``, so the query/key/value projection runs in int8 as
one product and the attention core runs as one kernel instead of fp32 glue between int8 products.

The optimizer matches patterns, so it depends on what the exporter wrote. Two things make the
export of transformers 5 match its patterns: eager attention (the caller exports with
``attn_implementation="eager"``; the SDPA export folds the scale away from where the pattern
looks for it) and no Cast of a boolean to boolean in the attention-mask subgraph (the TorchScript
exporter leaves some; ``drop_identity_casts`` removes them). A model whose graph matches no
pattern is still written, unfused: it runs, only slower, and ``fuse_transformer`` says so in its
counts.
"""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["drop_identity_casts", "fuse_transformer"]

log = logging.getLogger(__name__)


def drop_identity_casts(model: object) -> int:
    """Remove ``Cast`` nodes whose input already has the target type (an ``onnx.ModelProto``, in place).

    Returns how many were removed. A Cast feeding a graph output is kept (the output keeps its name)."""
    import onnx
    from onnx import shape_inference

    assert isinstance(model, onnx.ModelProto)
    inferred = shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type
             for v in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]}
    types.update({t.name: t.data_type for t in inferred.graph.initializer})
    outputs = {o.name for o in model.graph.output}
    identity = [n for n in model.graph.node if n.op_type == "Cast" and n.output[0] not in outputs
                and types.get(n.input[0]) == onnx.helper.get_attribute_value(n.attribute[0])]
    for cast in identity:
        for node in model.graph.node:
            for i, name in enumerate(node.input):
                if name == cast.output[0]:
                    node.input[i] = cast.input[0]
        model.graph.node.remove(cast)
    return len(identity)


def fuse_transformer(source: Path, target: Path, *, num_heads: int, hidden_size: int) -> dict[str, int]:
    """Write ``target``: the graph at ``source`` with attention, layer norms and GELU fused.

    Returns the count of each fused operator (``{"Attention": 6, ...}``, zeros left out)."""
    import onnx
    from onnxruntime.transformers import optimizer

    model = onnx.load(str(source))
    drop_identity_casts(model)
    logging.disable(logging.WARNING)  # the optimizer logs its pattern misses on the root logger
    try:
        # opt_level 0: the optimizer's own Python fusions only, no ONNX Runtime session (whose level-2
        # rewrites would tie the saved graph to this machine's instruction set).
        fused = optimizer.optimize_model(model, model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                                         opt_level=0)
    finally:
        logging.disable(logging.NOTSET)
    counts = {k: int(v) for k, v in fused.get_fused_operator_statistics().items() if v}
    fused.save_model_to_file(str(target))
    if not counts.get("Attention"):
        log.warning("ONNX Runtime fused no attention in %s (fused: %s); the model runs unfused, more slowly",
                    source, counts or "nothing")
    return counts
