# PyTorch reference of focusnet's one-stage cross-entropy training (docs/training.md, "The lr warm-up"):
# LeNet-5 (ReLU, max-pool), SGD lr 0.1 momentum 0.9 weight decay 1e-4, a per-step linear warm-up
# lr·(t+1)/W for t < W, the last partial batch dropped, on an IDX folder (scripts/mnist-digits.mjs).
#   python3 scripts/torch-lenet.py DATA_DIR WARMUP_STEPS SEED [EPOCHS=1] [BATCH=64] [std|none]
# std: normalised by the training split's mean/std (focusnet's default); none: raw [0, 1] pixels.
import sys, struct, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
def idx(path):
    b = open(path, 'rb').read()
    magic, n = struct.unpack('>II', b[:8])
    if magic == 0x803:
        h, w = struct.unpack('>II', b[8:16]); return np.frombuffer(b, np.uint8, offset=16).reshape(n, 1, h, w)
    return np.frombuffer(b, np.uint8, offset=8)
d = sys.argv[1]; warm = int(sys.argv[2]); seed = int(sys.argv[3]); epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
bs = int(sys.argv[5]) if len(sys.argv) > 5 else 64; norm = (sys.argv[6] if len(sys.argv) > 6 else 'std')
xtr = idx(f'{d}/train-images-idx3-ubyte').astype(np.float32) / 255; ytr = idx(f'{d}/train-labels-idx1-ubyte').astype(np.int64)
xte = idx(f'{d}/t10k-images-idx3-ubyte').astype(np.float32) / 255; yte = idx(f'{d}/t10k-labels-idx1-ubyte').astype(np.int64)
if norm == 'std':
    m, s = xtr.mean(), xtr.std(); xtr = (xtr - m) / s; xte = (xte - m) / s
xtr, ytr, xte, yte = map(torch.from_numpy, (xtr, ytr, xte, yte))
torch.manual_seed(seed)
class LeNet(nn.Module):
    def __init__(s):
        super().__init__(); s.conv1 = nn.Conv2d(1, 6, 5, padding=2); s.conv2 = nn.Conv2d(6, 16, 5)
        s.fc1 = nn.Linear(400, 120); s.fc2 = nn.Linear(120, 84); s.fc3 = nn.Linear(84, 10)
    def forward(s, x):
        x = F.max_pool2d(F.relu(s.conv1(x)), 2); x = F.max_pool2d(F.relu(s.conv2(x)), 2)
        x = x.flatten(1); return s.fc3(F.relu(s.fc2(F.relu(s.fc1(x)))))
net = LeNet(); opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
steps = len(xtr) // bs; t = 0
for ep in range(epochs):
    perm = torch.randperm(len(xtr)); net.train()
    for k in range(steps):
        i = perm[k*bs:(k+1)*bs]
        for g in opt.param_groups: g['lr'] = 0.1 * (t + 1) / warm if t < warm else 0.1
        loss = F.cross_entropy(net(xtr[i]), ytr[i]); opt.zero_grad(); loss.backward(); opt.step(); t += 1
net.eval()
with torch.no_grad(): acc = (net(xte).argmax(1) == yte).float().mean().item() * 100
print(f'warm {warm} seed {seed}: top-1 {acc:.2f}')
