"""fit_network under DistributedDataParallel: 2 CPU processes (gloo) end with identical weights."""

import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import lstm_scratch as ls
from lstm_scratch.forecasting.training import fit_network


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank: int, world_size: int, port: int, folder: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size
    )
    try:
        torch.manual_seed(100 + rank)  # different starting weights: DDP must broadcast rank 0's
        net = ls.create_lstm_model(
            {"input_size": 2, "hidden_size": 6, "output_size": 1, "dropout": 0.1}
        )
        torch.save(net.state_dict(), f"{folder}/init{rank}.pt")
        g = torch.Generator().manual_seed(
            0
        )  # the same data on every rank; each trains on its share
        X = torch.randn(40, 6, 2, generator=g)
        Y = X.mean(dim=(1, 2)).unsqueeze(1)
        cfg = {"epochs": 3, "batch_size": 5, "accumulation_steps": 2, "patience": None}
        history = fit_network(
            net, X[:32], Y[:32], X[32:], Y[32:], config=cfg, seed=1, verbose=False
        )
        torch.save({"weights": net.state_dict(), "history": history}, f"{folder}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_ranks_end_with_identical_weights(tmp_path):
    mp.spawn(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    init0, init1 = (torch.load(tmp_path / f"init{r}.pt", weights_only=True) for r in (0, 1))
    assert not torch.equal(init0["head.weight"], init1["head.weight"])
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for name, w0 in r0["weights"].items():
        assert torch.equal(w0, r1["weights"][name]), name
    assert not torch.equal(r0["weights"]["head.weight"], init0["head.weight"])  # it trained
    assert r0["history"] == r1["history"]  # losses averaged over ranks; same early-stopping view
