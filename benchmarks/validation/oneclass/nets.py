import torch, torch.nn as nn, torch.nn.functional as F

def block(i, o):
    return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

class VGGS(nn.Module):
    """small VGG: stages of two 3x3 conv+BN+ReLU, maxpool between, GAP, linear head."""
    def __init__(self, n_out, w=16, stages=3, in_ch=1):
        super().__init__()
        L, c = [], in_ch
        for s in range(stages):
            o = w * 2 ** s
            L += block(c, o) + block(o, o)
            if s < stages - 1:
                L.append(nn.MaxPool2d(2))
            c = o
        self.features = nn.Sequential(*L)
        self.dim = c
        self.head = nn.Linear(c, n_out)
    def embed(self, x):
        return self.features(x).mean((2, 3))
    def embed_multi(self, x):
        outs = []
        for m in self.features:
            if isinstance(m, nn.MaxPool2d):
                outs.append(x.mean((2, 3)))
            x = m(x)
        outs.append(x.mean((2, 3)))
        return outs
    def embed_spatial(self, x, grids=(4, 2)):
        """stage outputs (before each maxpool, and the last) average-pooled to small grids, per stage flattened"""
        outs = []
        for m in self.features:
            if isinstance(m, nn.MaxPool2d):
                outs.append(x)
            x = m(x)
        outs.append(x)
        outs = outs[-len(grids):]
        return [nn.functional.adaptive_avg_pool2d(o, g).flatten(1) for o, g in zip(outs, grids)]
    def forward(self, x):
        return self.head(self.embed(x))
