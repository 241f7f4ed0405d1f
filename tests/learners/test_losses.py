"""PPO's clipped losses on fixed tensors, the batched optimiser and the policy maths."""

from __future__ import annotations

import math

import torch

from agentgym.learners.normalize import RunningMeanStd
from agentgym.learners.ppo import PPOConfig, policy_loss, value_loss
from agentgym.learners.ppo.networks import StackedActorCritic, log_prob_entropy
from agentgym.learners.ppo.optim import StackedAdam
from agentgym.learners.ppo.update import minibatch_rows


def test_policy_loss_clips_the_ratio_pessimistically():
    adv = torch.tensor([1.0, 1.0, -1.0, -1.0, 2.0])
    ratio = torch.tensor([1.5, 0.5, 0.5, 1.5, 1.1])
    loss = policy_loss(adv, ratio, clip_coef=0.2)
    # A > 0: the gain is capped at ratio 1.2, a drop is not clipped (min of the objective).
    # A < 0: a drop is capped at ratio 0.8, a rise is not clipped. Inside the range: -A r.
    torch.testing.assert_close(loss, torch.tensor([-1.2, -0.5, 0.8, 1.5, -2.2]))
    grad_ratio = ratio.clone().requires_grad_(True)
    policy_loss(adv, grad_ratio, 0.2).sum().backward()
    # Clipped samples carry no gradient; unclipped ones carry -A.
    torch.testing.assert_close(grad_ratio.grad, torch.tensor([0.0, -1.0, 0.0, 1.0, -2.0]))


def test_value_loss_clipping():
    new, old, ret = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0]), torch.tensor([3.0, 0.5])
    torch.testing.assert_close(value_loss(new, old, ret, None), torch.tensor([0.5, 0.125]))
    # Sample 0: clipped value 1.2, (1.2 - 3)^2 = 3.24 > (2 - 3)^2 = 1 -> 0.5 * 3.24.
    torch.testing.assert_close(value_loss(new, old, ret, 0.2), torch.tensor([1.62, 0.125]))


def test_log_prob_and_entropy_match_torch_distributions():
    net = StackedActorCritic(3, 2, False, (8,), seeds=[0, 1])
    with torch.no_grad():
        net.flat[:2, -2:] = torch.tensor([[-0.5, 0.3], [0.1, -1.0]])
    out, _ = net(torch.randn(2, 5, 3))
    actions = torch.randn(2, 5, 2)
    logp, ent = log_prob_entropy(net, out, actions)
    for k in range(2):
        dist = torch.distributions.Normal(out[k], net.log_std()[k].exp())
        torch.testing.assert_close(logp[k], dist.log_prob(actions[k]).sum(-1))
        torch.testing.assert_close(ent[k], dist.entropy().sum(-1))
    disc = StackedActorCritic(3, 4, True, (8,), seeds=[0])
    out, _ = disc(torch.randn(1, 6, 3))
    acts = torch.randint(0, 4, (1, 6))
    logp, ent = log_prob_entropy(disc, out, acts)
    cat = torch.distributions.Categorical(logits=out[0])
    torch.testing.assert_close(logp[0], cat.log_prob(acts[0]))
    torch.testing.assert_close(ent[0], cat.entropy())


def test_population_member_equals_a_single_network_with_its_seed():
    pop = StackedActorCritic(5, 3, False, (16, 16), seeds=[7, 11, 13])
    one = StackedActorCritic(5, 3, False, (16, 16), seeds=[11])
    x = torch.randn(3, 4, 5)
    out, value = pop(x)
    out1, value1 = one(x[1:2])
    torch.testing.assert_close(out[1], out1[0], atol=1e-6, rtol=0)
    torch.testing.assert_close(value[1], value1[0], atol=1e-6, rtol=0)
    # Orthogonal init with gain sqrt(2) on the hidden layers, as in CleanRL and SB3.
    weight = one.layers()[1][0][0]  # actor, layer 2, [16, 16]
    torch.testing.assert_close(weight.T @ weight, 2.0 * torch.eye(16), atol=1e-5, rtol=0)


def test_stacked_adam_equals_torch_adam_and_clips_per_member():
    torch.manual_seed(0)
    rows = torch.arange(4) % 2  # 2 members, actor + critic rows
    start = torch.randn(4, 6)
    mine, grad = start.clone(), torch.zeros(4, 6)
    opt = StackedAdam(mine, grad, rows, 2, eps=1e-5)
    refs = [start[[k, 2 + k]].clone().requires_grad_(True) for k in range(2)]
    ref_opts = [torch.optim.Adam([r], lr=0.01, eps=1e-5) for r in refs]
    for step in range(5):
        grads = torch.randn(4, 6) * (10.0 if step % 2 else 0.1)
        grad.copy_(grads)
        norms = opt.clip_grad_norm(0.5)
        opt.step(0.01, torch.tensor([True, True]))
        for k, (ref, ref_opt) in enumerate(zip(refs, ref_opts, strict=True)):
            ref.grad = grads[[k, 2 + k]].clone()
            ref_norm = torch.nn.utils.clip_grad_norm_([ref], 0.5)
            ref_opt.step()
            torch.testing.assert_close(norms[k], ref_norm)
            torch.testing.assert_close(mine[[k, 2 + k]], ref.detach(), atol=1e-6, rtol=0)


def test_stacked_adam_leaves_inactive_members_untouched():
    rows = torch.arange(4) % 2
    param, grad = torch.randn(4, 3), torch.ones(4, 3)
    opt = StackedAdam(param, grad, rows, 2)
    opt.step(0.1, torch.tensor([True, True]))
    before = param.clone()
    grad.zero_()  # momentum alone would still move an active member
    opt.step(0.1, torch.tensor([False, True]))
    torch.testing.assert_close(param[[0, 2]], before[[0, 2]], atol=0, rtol=0)
    assert not torch.equal(param[[1, 3]], before[[1, 3]])
    assert opt.steps.tolist() == [1.0, 2.0]


def test_running_mean_std_matches_numpy_with_a_mask():
    torch.manual_seed(1)
    rms = RunningMeanStd(2, (3,), torch.device("cpu"), epsilon=0.0)
    chunks, masks = (
        [torch.randn(2, 5, 3) * 3 + 1 for _ in range(4)],
        [torch.rand(2, 5) > 0.3 for _ in range(4)],
    )
    for x, m in zip(chunks, masks, strict=True):
        rms.update(x, m)
    for k in range(2):
        seen = torch.cat([x[k][m[k]] for x, m in zip(chunks, masks, strict=True)]).double()
        torch.testing.assert_close(rms.mean[k], seen.mean(0))
        torch.testing.assert_close(rms.var[k], seen.var(0, unbiased=False))
        assert math.isclose(float(rms.count[k]), len(seen))


def test_minibatch_rows_cover_each_members_own_samples_once_per_epoch():
    config = PPOConfig(num_envs=2, num_steps=8, num_minibatches=4, update_epochs=3)
    cpu = torch.device("cpu")
    rows = minibatch_rows(config, 16, [torch.Generator().manual_seed(s) for s in (0, 1)], cpu)
    assert rows.shape == (3, 4, 2, 4)  # [epochs, minibatches, members, minibatch size]
    for epoch in range(3):
        for k in range(2):  # member k's samples are rows 16k .. 16k + 15 of the table
            assert sorted(rows[epoch, :, k].reshape(-1).tolist()) == list(
                range(16 * k, 16 * k + 16)
            )
    # Member 1 draws its order from its own generator: as a lone member with it would.
    alone = minibatch_rows(config, 16, [torch.Generator().manual_seed(1)], cpu)
    assert torch.equal(rows[:, :, 1] - 16, alone[:, :, 0])
