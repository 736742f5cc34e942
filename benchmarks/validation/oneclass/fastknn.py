"""kNN distance via torch matmul + topk (1 thread), vs sklearn. usage: python fastknn.py"""
from harness import *
def knn_torch(bank, q, k, bs=1000):
    B = torch.from_numpy(bank); bn = (B * B).sum(1)
    out = []
    for i in range(0, len(q), bs):
        Q = torch.from_numpy(q[i:i + bs]); d2 = (Q * Q).sum(1, keepdim=True) - 2 * Q @ B.T + bn
        out.append(d2.clamp_min(0).topk(k, 1, largest=False).values.sqrt().mean(1))
    return -torch.cat(out).numpy()
Xtr, Xv, yv = split(0, 0)
bt, bv = sqrt_blur(Xtr[:4500]), sqrt_blur(Xv)
t = time.time(); a = knn(bt, bv, 5); t1 = time.time() - t
t = time.time(); b = knn_torch(bt, bv, 5); t2 = time.time() - t
t = time.time(); bv2 = sqrt_blur(Xv); b = knn_torch(bt, bv2, 5); t3 = time.time() - t
print(f"sklearn {3000/t1:.0f} img/s, torch {3000/t2:.0f} img/s, incl. preprocessing {3000/t3:.0f} img/s, max abs diff {np.abs(a-b).max():.2e}, auroc {auroc(yv,a):.4f} {auroc(yv,b):.4f}")
