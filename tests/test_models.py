"""The model zoo: shapes, gradients, parameter counts, dropout in training, and a real
learning check (every model overfits a tiny batch: the loss drops 10x)."""

import pytest
import torch

import lstm_scratch as ls
from lstm_scratch.models import create_model, list_models

B, T, F_IN, OUT = 8, 10, 3, 2
# small configurations, so the whole zoo trains in seconds; dropout 0 for the overfit check
SMALL = {
    "mlp": dict(hidden_sizes=(32,), window=T),
    "lstm": dict(hidden_size=16, num_layers=2),
    "gru": dict(hidden_size=16, num_layers=2),
    "bilstm": dict(hidden_size=12, num_layers=1),
    "cnn_lstm": dict(conv_channels=8, hidden_size=16),
    "tcn": dict(channels=(16, 16, 16)),
    "transformer": dict(d_model=16, nhead=2, num_layers=1, dim_feedforward=32),
    "attention_lstm": dict(hidden_size=16, num_layers=1, attention_size=8),
    "multiscale_hybrid": dict(d_model=16, num_blocks=2, num_heads=2, head_hidden=16),
    "multitask": dict(hidden_size=16, num_layers=2),
}


def test_every_model_is_listed():
    assert list_models() == sorted(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_shape_and_finite_gradient_for_every_parameter(name):
    torch.manual_seed(0)
    model = create_model(name, F_IN, OUT, **SMALL[name])
    x = torch.randn(B, T, F_IN)
    y = model(x)
    assert y.shape == (B, OUT)
    outputs = model(x, per_task=True).values() if name == "multitask" else [y]  # every head
    sum((out ** 2).sum() for out in outputs).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: no gradient for {pname}"
        assert torch.isfinite(p.grad).all(), f"{name}: non-finite gradient for {pname}"
    assert model(torch.randn(1, 4, F_IN)).shape == (1, OUT)  # other batch and length


@pytest.mark.parametrize("name", sorted(SMALL))
def test_dropout_is_applied_in_training_only(name):
    """Monte Carlo dropout samples the model in train mode; it needs dropout to be live."""
    torch.manual_seed(1)
    model = create_model(name, F_IN, OUT, **SMALL[name], dropout=0.3)
    x = torch.randn(B, T, F_IN)
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


def lstm_count(I, H, layers, D):
    """torch's LSTM: 4((I_l + H) H + 2H) per direction and layer, I_l = D H above layer 0."""
    return sum(D * 4 * (((I if l == 0 else D * H) + H) * H + 2 * H) for l in range(layers))


def gru_count(I, H, layers, D):
    return sum(D * 3 * (((I if l == 0 else D * H) + H) * H + 2 * H) for l in range(layers))


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_match_the_closed_forms():
    head = lambda width: width * OUT + OUT  # noqa: E731
    assert n_params(create_model("lstm", F_IN, OUT)) == lstm_count(F_IN, 64, 2, 1) + head(64)
    assert n_params(create_model("bilstm", F_IN, OUT)) == lstm_count(F_IN, 64, 2, 2) + head(128)
    assert n_params(create_model("gru", F_IN, OUT)) == gru_count(F_IN, 64, 2, 1) + head(64)
    bigru = create_model("gru", F_IN, OUT, num_layers=3, bidirectional=True, hidden_size=8)
    assert n_params(bigru) == gru_count(F_IN, 8, 3, 2) + head(16)


def hybrid_count(F, O, d, H, blocks, hh, conv=True, attention=True, heads=3):
    """The parameters of multiscale_hybrid, layer by layer (see models/hybrid.py)."""
    linear = lambda i, o: i * o + o  # noqa: E731
    multiscale = lambda ks: sum(d * d * k + d for k in ks) + linear(len(ks) * d, d)  # noqa: E731
    conv_stage = multiscale((3, 5, 7)) + multiscale((3, 5, 9)) + linear(2 * d, d) + 2 * d
    bilstm_block = lstm_count(d, H, 1, 2) + linear(2 * H, d) + 2 * d
    attention_layer = linear(d, 3 * d) + linear(d, d) + 2 * d  # in_proj, out_proj, LayerNorm
    return (linear(F, d) + 2 * d + conv * conv_stage + blocks * bilstm_block
            + attention * (blocks // 2) * attention_layer
            + heads * (linear(3 * d, hh) + linear(hh, O)) + linear(heads * O, O) + O)


def test_multiscale_hybrid_at_default_size():
    """Defaults: 9 features, d_model 256, 4 BiLSTM blocks, 8 heads, 3 outputs."""
    torch.manual_seed(2)
    model = create_model("multiscale_hybrid", 9, 3).eval()
    assert n_params(model) == hybrid_count(9, 3, 256, 256, 4, 128)
    with torch.no_grad():
        y = model(torch.randn(8, 50, 9))
    assert y.shape == (8, 3) and torch.isfinite(y).all()


@pytest.mark.parametrize(
    "switches, removed",
    [
        (dict(use_conv=False), ("conv_a.", "conv_b.", "fusion_gate.", "conv_norm.")),
        (dict(use_attention=False), ("attentions.", "attention_norms.")),
        (dict(num_output_heads=1), ("heads.1.", "heads.2.")),
    ],
)
def test_multiscale_hybrid_ablation_switches_remove_their_parameters(switches, removed):
    """Each switch removes exactly its component's parameters and the model still trains."""
    small = dict(d_model=16, num_blocks=2, num_heads=2, head_hidden=16)
    torch.manual_seed(4)
    full = create_model("multiscale_hybrid", F_IN, OUT, **small)
    ablated = create_model("multiscale_hybrid", F_IN, OUT, **small, **switches)
    counts = dict(conv=switches.get("use_conv", True),
                  attention=switches.get("use_attention", True),
                  heads=switches.get("num_output_heads", 3))
    assert n_params(full) == hybrid_count(F_IN, OUT, 16, 16, 2, 16)
    assert n_params(ablated) == hybrid_count(F_IN, OUT, 16, 16, 2, 16, **counts) < n_params(full)
    names = {name for name, _ in ablated.named_parameters()}
    full_names = {name for name, _ in full.named_parameters()}
    gone = {name for name in full_names if name.startswith(removed)}
    assert gone and not gone & names and names <= full_names  # only those are gone
    y = ablated(torch.randn(B, T, F_IN))
    assert y.shape == (B, OUT)
    (y ** 2).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in ablated.parameters())


def test_multiscale_hybrid_switch_errors():
    with pytest.raises(TypeError, match="use_conv"):
        create_model("multiscale_hybrid", F_IN, OUT, use_conv="no")
    with pytest.raises(ValueError, match="num_output_heads"):
        create_model("multiscale_hybrid", F_IN, OUT, d_model=8, num_heads=2, num_output_heads=0)


def overfit(name, steps=300, lr=1e-2):
    """Train on one fixed batch with random targets; return (initial, final) loss."""
    torch.manual_seed(3)
    model = create_model(name, F_IN, OUT, **SMALL[name], dropout=0.0)
    x, y = torch.randn(16, 6, F_IN), torch.randn(16, OUT)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    first, step = None, 0
    for step in range(steps):  # noqa: B007 (returned: how many steps it took)
        loss = torch.nn.functional.mse_loss(model(x), y)
        first = loss.item() if first is None else first
        if loss.item() < first / 12:  # a margin past the 10x asked for; stop to save time
            break
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return first, loss.item(), step


@pytest.mark.parametrize("name", sorted(SMALL))
def test_every_model_overfits_a_tiny_batch(name):
    first, last, steps = overfit(name)
    print(f"{name}: loss {first:.4f} -> {last:.4f} in {steps} steps")
    assert last < first / 10, f"{name}: loss only went from {first:.4f} to {last:.4f}"


def test_bad_config_and_input_errors():
    with pytest.raises(ValueError, match=r"unknown config keys \['hiden_size'\]"):
        create_model("lstm", F_IN, OUT, hiden_size=3)
    with pytest.raises(ValueError, match="unknown model 'lsmt'"):
        create_model("lsmt", F_IN, OUT)
    for name in sorted(SMALL):
        model = create_model(name, F_IN, OUT, **SMALL[name])
        with pytest.raises(ValueError, match="input_size=3"):
            model(torch.randn(B, T, F_IN + 1))
        with pytest.raises(ValueError, match="batch, time, features"):
            model(torch.randn(T, F_IN))
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        create_model("transformer", F_IN, OUT, d_model=10, nhead=4)
    with pytest.raises(ValueError, match="kernel_size must be greater than zero"):
        create_model("tcn", F_IN, OUT, kernel_size=0)


def test_attention_lstm_returns_its_weights():
    model = ls.create_model("attention_lstm", F_IN, OUT, **SMALL["attention_lstm"])
    y, weights = model.forward_with_weights(torch.randn(B, T, F_IN))
    assert y.shape == (B, OUT) and weights.shape == (B, T)
    torch.testing.assert_close(weights.sum(1), torch.ones(B))


def test_one_way_to_build_the_lstm_model():
    """create_model("lstm") is the one way: LSTMNetwork is the class it builds (the zoo
    gives it two layers and dropout 0.1), create_lstm_model is the same class from a dict,
    and the former zoo class models.LSTMModel warns and builds through create_model. The
    state_dict keys are nn.LSTM's under `lstm.` and the head's, as before."""
    torch.manual_seed(0)
    zoo = create_model("lstm", F_IN, OUT)
    assert type(zoo) is ls.LSTMNetwork and zoo.lstm.num_layers == 2 and zoo.dropout == 0.1
    assert type(ls.create_lstm_model({"input_size": F_IN})) is ls.LSTMNetwork
    assert ls.LSTMNetwork(F_IN).lstm.num_layers == 1  # LSTMNetwork's own defaults stay torch's
    reference = torch.nn.LSTM(F_IN, 64, 2, bidirectional=True).state_dict()
    bilstm = create_model("bilstm", F_IN, OUT)
    assert list(bilstm.state_dict()) == [f"lstm.{k}" for k in reference] + [
        "head.weight", "head.bias"
    ]
    for old, name in (("LSTMModel", "lstm"), ("BiLSTMModel", "bilstm")):
        with pytest.warns(FutureWarning, match=f"create_model\\('{name}'"):
            model = getattr(ls.models, old)(F_IN, OUT, hidden_size=8)
        assert type(model) is ls.LSTMNetwork
        assert model.lstm.bidirectional == (name == "bilstm")
        model.load_state_dict(create_model(name, F_IN, OUT, hidden_size=8).state_dict())


def test_zoo_config_keys_are_the_classes_own_arguments():
    """model_config reads each model's keyword arguments, less the zoo's contract (the two
    sizes, and return_sequences: a zoo model answers (batch, output_size))."""
    import inspect

    from lstm_scratch.models import MODELS, model_config

    for name in list_models():
        own = inspect.signature(MODELS[name]).parameters
        assert set(model_config(name)) == set(own) - {"input_size", "output_size",
                                                      "return_sequences"}, name
    with pytest.raises(ValueError, match="unknown config keys \\['return_sequences'\\]"):
        create_model("lstm", F_IN, OUT, return_sequences=True)
