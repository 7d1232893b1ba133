#!/usr/bin/env python3
"""Writes packages/rnn/test/fixtures/torch-parity.json: PyTorch's loss and every gradient for d2l's
concise RNNModel (one-hot inputs, nn.RNN/GRU/LSTM, nn.Linear, mean cross-entropy) on small fixed weights
and tokens, so that tests can hold tinytape to PyTorch on identical weights without PyTorch installed.

    /usr/bin/python3 scripts/torch-parity-fixture.py   # Debian's python3-torch
"""
import json
import os

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(7)
VOCAB, BATCH, STEPS, HIDDEN = 7, 3, 5, 6
CASES = [
    ('rnn', 1, False, 'tanh'),
    ('rnn', 1, False, 'relu'),
    ('gru', 1, False, None),
    ('lstm', 1, False, None),
    ('lstm', 2, True, None),
    ('gru', 2, True, None),
]


def case(cell, layers, bidirectional, nonlinearity):
    kwargs = dict(num_layers=layers, bidirectional=bidirectional)
    if cell == 'rnn':
        layer = nn.RNN(VOCAB, HIDDEN, nonlinearity=nonlinearity, **kwargs)
    else:
        layer = {'gru': nn.GRU, 'lstm': nn.LSTM}[cell](VOCAB, HIDDEN, **kwargs)
    directions = 2 if bidirectional else 1
    linear = nn.Linear(directions * HIDDEN, VOCAB)
    X = torch.randint(0, VOCAB, (BATCH, STEPS))
    Y = torch.randint(0, VOCAB, (BATCH, STEPS))
    shape = (layers * directions, BATCH, HIDDEN)
    h0 = torch.randn(shape) * 0.5
    state = (h0, torch.randn(shape) * 0.5) if cell == 'lstm' else h0
    # d2l's RNNModel.forward and train_epoch_ch8's loss.
    inputs = F.one_hot(X.T.long(), VOCAB).type(torch.float32)
    out, _ = layer(inputs, state)
    logits = linear(out.reshape((-1, out.shape[-1])))
    loss = F.cross_entropy(logits, Y.T.reshape(-1).long())
    loss.backward()
    params = [(f'rnn.{n}', p) for n, p in layer.named_parameters()] + [(f'linear.{n}', p) for n, p in linear.named_parameters()]
    return {
        'cell': cell, 'layers': layers, 'bidirectional': bidirectional, 'nonlinearity': nonlinearity or 'tanh',
        'X': X.flatten().tolist(), 'Y': Y.flatten().tolist(),
        'h0': exact(h0.flatten().tolist()), 'c0': exact(state[1].flatten().tolist()) if cell == 'lstm' else None,
        'params': {n: exact(p.detach().flatten().tolist()) for n, p in params},
        'loss': loss.item(),
        'grads': {n: short(p.grad.flatten().tolist()) for n, p in params},
    }


def exact(values):
    # 9 significant digits name a float32 exactly: the weights and states tinytape loads are PyTorch's.
    return [float('%.9g' % v) for v in values]


def short(values):
    # Results need less: 7 significant digits are far within the tests' 1e-4.
    return [float('%.7g' % v) for v in values]


fixture = {'vocab': VOCAB, 'batch': BATCH, 'steps': STEPS, 'hidden': HIDDEN, 'torch': torch.__version__, 'cases': [case(*c) for c in CASES]}
out = os.path.join(os.path.dirname(__file__), '..', 'packages', 'rnn', 'test', 'fixtures', 'torch-parity.json')
with open(out, 'w') as f:
    json.dump(fixture, f, separators=(',', ':'))
print(f'wrote {out}: {len(fixture["cases"])} cases, torch {torch.__version__}')
