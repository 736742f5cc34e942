# validation on digits' training split: CNNOneClassSVM settings (diagnosis of the digits failure)
import sys, numpy as np, json, time
from sklearn.metrics import roc_auc_score
from skanomaly import CNNOneClassSVM
from skanomaly.datasets import load_digits_images
Xtr, ytr, _, _ = load_digits_images()
rng = np.random.RandomState(0)
out = open("/work/research26/digits_cnn.jsonl", "a")
for c in [int(a) for a in sys.argv[1].split(",")]:
    norm = np.flatnonzero(ytr == c); rng.shuffle(norm)
    val_n, fit_n = norm[:50], norm[50:]
    anom = np.flatnonzero(ytr != c); rng.shuffle(anom); val_a = anom[:200]
    Xv = np.concatenate([Xtr[val_n], Xtr[val_a]]); yv = np.r_[np.ones(50), -np.ones(200)]
    for kw in [json.loads(k) for k in sys.argv[2:]]:
        t = time.time()
        d = CNNOneClassSVM(random_state=0, **kw).fit(Xtr[fit_n])
        a = roc_auc_score(yv, d.score_samples(Xv))
        rec = dict(cls=c, kw=kw, auroc=a, s=time.time() - t); print(rec, flush=True); out.write(json.dumps(rec) + "\n"); out.flush()
