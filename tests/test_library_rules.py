"""From scratch means from primitives: library code never uses PyTorch's recurrent,
attention or convolution layers. This reads the source's syntax tree (so docstrings may
still name the layer they replace) and fails on any such name, called or not."""

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
FORBIDDEN = re.compile(
    r"(^|\.)(LSTM|LSTMCell|GRU|GRUCell|RNN|RNNCell|RNNBase|MultiheadAttention|Transformer\w*"
    r"|Conv1d|conv1d|scaled_dot_product_attention|_VF|lstm_cell|gru_cell)$"
)


def dotted(node: ast.AST) -> str | None:
    """'torch.nn.LSTM' for the expression torch.nn.LSTM, None if not a plain dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def torch_aliases(tree: ast.AST) -> set[str]:
    """Names bound to torch modules: torch, and e.g. nn / F from `from torch import nn`."""
    aliases = {"torch"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name.startswith("torch")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch"):
            aliases |= {a.asname or a.name for a in node.names}
    return aliases


def torch_layer_uses(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    roots = torch_aliases(tree)
    hits = []
    for node in ast.walk(tree):
        name = dotted(node) if isinstance(node, ast.Attribute) else None
        if name and name.split(".")[0] in roots and FORBIDDEN.search(name):
            hits.append((node.lineno, name))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch"):
            hits += [(node.lineno, a.name) for a in node.names if FORBIDDEN.search(a.name)]
    return hits


def test_library_uses_no_pytorch_recurrent_attention_or_conv_layers():
    hits = []
    for folder in ("lstm_scratch", "kernels"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, name in torch_layer_uses(path.read_text()):
                hits.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert not hits, "library code uses a PyTorch layer:\n" + "\n".join(hits)


def test_the_scan_sees_a_violation():
    assert torch_layer_uses("from torch import nn\nout = nn.LSTM(3, 4)(x)")
    assert torch_layer_uses("import torch.nn.functional as F\ny = F.conv1d(x, w)")
    assert torch_layer_uses("y = torch.lstm_cell(x, hx, w_ih, w_hh)")
    assert not torch_layer_uses("from . import functional as F\nh, c = F.lstm_cell(x, hx, w)")
    assert torch_layer_uses("y = torch.nn.functional.conv1d(x, w)")
    assert torch_layer_uses("from torch.nn import GRU")
    assert torch_layer_uses("torch._VF.lstm(x)")
    assert not torch_layer_uses('"""as torch.nn.LSTM does"""\nout = ls.LSTM(3, 4)(x)')
