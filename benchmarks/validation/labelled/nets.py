import torch
import torch.nn.functional as F
from torch import nn


class LeNetEnc(nn.Module):
    """Ruff et al. FMNIST LeNet: conv(1->16,5)+BN+LReLU+pool, conv(16->32,5)+BN+LReLU+pool, fc 32*7*7->rep. No biases."""
    def __init__(self, rep=64, bias=False, w=16):
        super().__init__()
        self.c1 = nn.Conv2d(1, w, 5, padding=2, bias=bias)
        self.b1 = nn.BatchNorm2d(w, eps=1e-4, affine=bias)
        self.c2 = nn.Conv2d(w, 2 * w, 5, padding=2, bias=bias)
        self.b2 = nn.BatchNorm2d(2 * w, eps=1e-4, affine=bias)
        self.fc = nn.Linear(2 * w * 7 * 7, rep, bias=bias)

    def trunk(self, x):
        x = F.max_pool2d(F.leaky_relu(self.b1(self.c1(x))), 2)
        x = F.max_pool2d(F.leaky_relu(self.b2(self.c2(x))), 2)
        return x.flatten(1)

    def forward(self, x):
        return self.fc(self.trunk(x))


class LeNetDec(nn.Module):
    def __init__(self, rep=64, bias=False, w=16):
        super().__init__()
        self.w = w
        self.fc = nn.Linear(rep, 2 * w * 7 * 7, bias=bias)
        self.b0 = nn.BatchNorm1d(2 * w * 7 * 7, eps=1e-4, affine=bias)
        self.d1 = nn.ConvTranspose2d(2 * w, w, 5, padding=2, bias=bias)
        self.b1 = nn.BatchNorm2d(w, eps=1e-4, affine=bias)
        self.d2 = nn.ConvTranspose2d(w, 1, 5, padding=2, bias=bias)

    def forward(self, z):
        x = F.leaky_relu(self.b0(self.fc(z))).view(-1, 2 * self.w, 7, 7)
        x = F.interpolate(x, scale_factor=2)
        x = F.leaky_relu(self.b1(self.d1(x)))
        x = F.interpolate(x, scale_factor=2)
        return torch.sigmoid(self.d2(x))


class LeNetAE(nn.Module):
    def __init__(self, rep=64, bias=False, w=16):
        super().__init__()
        self.enc = LeNetEnc(rep, bias, w)
        self.dec = LeNetDec(rep, bias, w)

    def forward(self, x):
        return self.dec(self.enc(x))


class SmallCNN(nn.Module):
    """classifier / rotation net: conv32-conv64(-conv128) with BN, pool, GAP/fc head."""
    def __init__(self, n_out=1, w=32):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 4 * w, 3, padding=1, bias=False), nn.BatchNorm2d(4 * w), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * w, n_out)

    def forward(self, x):
        return self.head(self.f(x))
