import sys, time; sys.path.insert(0, '.')
from common import *
from nets import *
import modules_copy as M, gan_modules_copy as G
x = torch.rand(128, 1, 28, 28)
def t(name, m, f=lambda m, x: m(x).float().mean()):
    opt = torch.optim.Adam(m.parameters())
    t0 = time.time()
    for _ in range(5):
        l = f(m, x); opt.zero_grad(); l.backward(); opt.step()
    dt = (time.time() - t0) / 5
    print(name, f"{dt*1000:.0f} ms/batch128 -> {dt*5000/128:.1f} s per 5000 imgs", flush=True)
t("lenet_enc", LeNetEnc())
t("lenet_ae", LeNetAE())
t("smallcnn32", SmallCNN())
t("smallcnn16", SmallCNN(w=16))
t("sk_convAE nf32 lat8", M.ConvAutoEncoder((1,28,28), 8, 32))
t("unet16", G.UNetGenerator((1,28,28), 16))
t("patchD16", G.PatchDiscriminator((1,28,28), 16))
