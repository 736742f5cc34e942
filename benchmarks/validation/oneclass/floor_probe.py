"""Validation only (pixels, no network): does the floor of the per-pixel Gaussian's scale matter?

Usage: python benchmarks/validation/oneclass/floor_probe.py > benchmarks/validation/oneclass/marginal/floor_probe.txt
"""
import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skanomaly.benchmark._runner import SplitSettings, make_split
from skanomaly.datasets import load_fashion_mnist
from skanomaly.nn import sqrt_blur

torch.set_num_threads(1)
data=load_fashion_mnist()
sb=lambda M: sqrt_blur(torch.as_tensor(np.asarray(M),dtype=torch.float32).reshape(-1,1,28,28)/255).flatten(1).numpy().astype(np.float64)
res={}
for c in range(10):
  for seed in (0,1):
    sp=make_split(data,c,seed,SplitSettings(evaluate="validation",validation_size=1000))
    T,Q=sb(sp.X_train),sb(sp.X_eval); normal=sp.y_eval==1
    mu,sd=T.mean(0),T.std(0)
    row=[]
    for name,fl in (("abs0.05",0.05),("rel0.1",0.1*sd.max()),("rel0.15",0.15*sd.max()),("rel0.2",0.2*sd.max()),("rel0.3",0.3*sd.max())):
      s=(((Q-mu)/(sd+fl))**2).sum(1)
      row.append(roc_auc_score(normal,-s)); res.setdefault(name,[]).append(row[-1])
    print(c,seed,np.round(row,4),flush=True)
for k,v in res.items(): print(k, np.mean(v).round(4))
