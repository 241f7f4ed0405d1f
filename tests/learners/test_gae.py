"""GAE against hand-computed returns, including bootstrapping on truncation."""

from __future__ import annotations

import torch

from agentgym.learners.gae import compute_gae

GAMMA, LAM = 0.9, 0.8


def _t(*values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype).unsqueeze(1)  # [T, N=1]


def test_gae_without_episode_end_matches_hand_computation():
    rewards, values, last = _t(1.0, 2.0, 3.0), _t(0.5, 1.0, 1.5), torch.tensor([2.0])
    no = _t(False, False, False, dtype=torch.bool)
    adv, ret = compute_gae(rewards, values, last, no, no, GAMMA, LAM)
    d2 = 3.0 + 0.9 * 2.0 - 1.5  # 3.3
    d1 = 2.0 + 0.9 * 1.5 - 1.0  # 2.35
    d0 = 1.0 + 0.9 * 1.0 - 0.5  # 1.4
    a2 = d2
    a1 = d1 + 0.72 * a2
    a0 = d0 + 0.72 * a1
    torch.testing.assert_close(adv[:, 0], torch.tensor([a0, a1, a2]))
    torch.testing.assert_close(ret, adv + values)


def test_termination_does_not_bootstrap_and_cuts_the_chain():
    # Step 1 terminates; step 2 is Gymnasium's autoreset step, whose value is V(final obs).
    rewards, values, last = _t(1.0, 2.0, 0.0), _t(0.5, 1.0, 7.0), torch.tensor([3.0])
    term = _t(False, True, False, dtype=torch.bool)
    trunc = _t(False, False, False, dtype=torch.bool)
    adv, _ = compute_gae(rewards, values, last, term, trunc, GAMMA, LAM)
    a1 = 2.0 - 1.0  # no bootstrap from V(final) = 7
    a0 = (1.0 + 0.9 * 1.0 - 0.5) + 0.72 * a1
    torch.testing.assert_close(adv[:2, 0], torch.tensor([a0, a1]))


def test_truncation_bootstraps_from_the_final_observation():
    rewards, values, last = _t(1.0, 2.0, 0.0), _t(0.5, 1.0, 7.0), torch.tensor([3.0])
    term = _t(False, False, False, dtype=torch.bool)
    trunc = _t(False, True, False, dtype=torch.bool)
    adv, _ = compute_gae(rewards, values, last, term, trunc, GAMMA, LAM)
    a1 = 2.0 + 0.9 * 7.0 - 1.0  # bootstrap on the time limit from V(final obs) = 7
    a0 = (1.0 + 0.9 * 1.0 - 0.5) + 0.72 * a1
    torch.testing.assert_close(adv[:2, 0], torch.tensor([a0, a1]))
    # The new episode (step 2) does not leak into the truncated one.
    other = compute_gae(
        rewards, _t(0.5, 1.0, 7.0), torch.tensor([-100.0]), term, trunc, GAMMA, LAM
    )[0]
    torch.testing.assert_close(other[:2], adv[:2])


def test_last_step_truncated_bootstraps_from_last_value():
    rewards, values, last = _t(1.0), _t(0.5), torch.tensor([4.0])
    trunc, term = _t(True, dtype=torch.bool), _t(False, dtype=torch.bool)
    adv, _ = compute_gae(rewards, values, last, term, trunc, GAMMA, LAM)
    torch.testing.assert_close(adv[0, 0], torch.tensor(1.0 + 0.9 * 4.0 - 0.5))
    adv_term, _ = compute_gae(rewards, values, last, trunc, term, GAMMA, LAM)
    torch.testing.assert_close(adv_term[0, 0], torch.tensor(1.0 - 0.5))


def test_gae_is_batched_over_leading_dims():
    torch.manual_seed(0)
    rewards, values = torch.randn(6, 3, 4), torch.randn(6, 3, 4)
    last = torch.randn(3, 4)
    term = torch.rand(6, 3, 4) < 0.2
    trunc = torch.rand(6, 3, 4) < 0.2
    adv, _ = compute_gae(rewards, values, last, term, trunc, GAMMA, LAM)
    for k in range(3):
        for n in range(4):
            one, _ = compute_gae(
                rewards[:, k, n, None],
                values[:, k, n, None],
                last[k, n, None],
                term[:, k, n, None],
                trunc[:, k, n, None],
                GAMMA,
                LAM,
            )
            torch.testing.assert_close(adv[:, k, n], one[:, 0])
