"""Train the embedded guard and write its artifact.

    python -m policies.guards.embedded.train [--data DIR] [--out PATH] [--no-eval]

One logistic regression per category (scikit-learn, the `train` extra) over
`features.py` features, NB-scaled (each feature multiplied by its naive-Bayes
log-count ratio for that category, as in NBSVM, Wang & Manning 2012); the
overall unsafe score is the noisy-OR of the category probabilities.

Training data: the moderation train split (data.moderation_split, all four
languages) plus the seeded synthetic prompts (synth.generate). Never the
moderation test split, never XSTest. The operating threshold is chosen by a
4-fold cross-validation inside the training data, grouped by moderation
prompt index (a prompt and its translations stay in one fold): the threshold
that maximises the mean F1 over the four languages on the out-of-fold
predictions, among those that keep the false-positive rate on the held-out
synthetic prompts (synth's "held" fillers, which those folds do not train
on) at most MAX_DEV_FPR. Deterministic: fixed split and seed, lbfgs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression

from policies.guards.embedded import data as D
from policies.guards.embedded import features, synth
from policies.guards.embedded.evaluate import evaluate, table
from policies.guards.embedded.model import DEFAULT_ARTIFACT, FORMAT, EmbeddedGuard, pack, quantize

C = 1.0  # inverse L2 strength, every head
MIN_DF = 2  # a feature must occur in at least this many training texts
NB_ALPHA = 1.0  # smoothing of the naive-Bayes ratios
SYNTH_SEED = 0
CV_FOLDS = 4
MAX_DEV_FPR = 0.10
# Synthetic labels use the moderation codes; map them to category names.
SYNTH_CATEGORY = {**D.CODES, synth.ILLICIT: D.ILLICIT}


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    unsafe: bool
    labels: dict[str, int]  # category -> 0/1; missing = not labelled
    index: int  # moderation prompt index, -1 for synthetic rows
    lang: str
    held: bool  # synthetic development row


def training_rows(data: str | Path | None = None, seed: int = SYNTH_SEED) -> list[Row]:
    rows = []
    for lang in D.LANGS:
        train, _ = D.moderation_split(lang, data)
        rows += [Row(p.text, p.unsafe, p.labels, p.index, lang, False) for p in train]
    for e in synth.generate(seed):
        labels = {name: int(code in e.categories) for code, name in SYNTH_CATEGORY.items()}
        rows.append(Row(e.text, e.unsafe, labels, -1, e.lang, e.held))
    return rows


def head_labels(rows: Sequence[Row], category: str) -> np.ndarray:
    """1 / 0 per row, -1 where unknown: a safe moderation prompt has no
    category; an unsafe one without this category's flag is not labelled."""
    out = np.empty(len(rows), dtype=int)
    for i, r in enumerate(rows):
        if category in r.labels:
            out[i] = r.labels[category]
        else:
            out[i] = -1 if r.unsafe else 0
    return out


class Design:
    """Vocabulary, idf and the (binary, tf-idf) matrices of the training texts."""

    def __init__(self, texts: Sequence[str]) -> None:
        cache = [features.features(t) for t in texts]
        lookup = dict(zip(texts, cache))
        self.words = CountVectorizer(analyzer=lambda t: lookup[t][0], binary=True, min_df=MIN_DF, dtype=np.float64)
        self.chars = CountVectorizer(analyzer=lambda t: lookup[t][1], binary=True, min_df=MIN_DF, dtype=np.float64)
        bw = self.words.fit_transform(texts)
        bc = self.chars.fit_transform(texts)
        self.tw = TfidfTransformer().fit(bw)
        self.tc = TfidfTransformer().fit(bc)
        self.binary = sparse.hstack([bw, bc]).tocsr()
        self.x = sparse.hstack([self.tw.transform(bw), self.tc.transform(bc)]).tocsr()
        self.idf = np.concatenate([self.tw.idf_, self.tc.idf_])
        self.n_word = bw.shape[1]
        vw = sorted(self.words.vocabulary_, key=self.words.vocabulary_.__getitem__)
        vc = sorted(self.chars.vocabulary_, key=self.chars.vocabulary_.__getitem__)
        self.vocab = vw + vc


@dataclass(slots=True)
class Head:
    bias: float
    weights: np.ndarray  # folded: LR coefficient x NB ratio x idf, per vocabulary entry


def fit_head(design: Design, rows_idx: np.ndarray, y: np.ndarray) -> Head:
    """One category head on these rows (labels y: 1 / 0)."""
    b = design.binary[rows_idx]
    pos = NB_ALPHA + np.asarray(b[y == 1].sum(axis=0)).ravel()
    neg = NB_ALPHA + np.asarray(b[y == 0].sum(axis=0)).ravel()
    ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
    x = design.x[rows_idx].multiply(ratio).tocsr()
    # liblinear's dual solver: the same L2 logistic regression as lbfgs (it
    # also penalises the intercept, slightly), an order of magnitude faster
    # with many more features than rows.
    model = LogisticRegression(C=C, solver="liblinear", dual=True, max_iter=5000, random_state=0).fit(x, y)
    return Head(float(model.intercept_[0]), model.coef_[0] * ratio * design.idf)


def fit_heads(design: Design, rows: Sequence[Row], use: np.ndarray) -> dict[str, Head]:
    heads = {}
    for name in D.CATEGORIES:
        y = head_labels(rows, name)
        idx = np.flatnonzero(use & (y >= 0))
        heads[name] = fit_head(design, idx, y[idx])
    return heads


def predict(design: Design, heads: dict[str, Head], rows_idx: np.ndarray) -> np.ndarray:
    """Noisy-OR unsafe probability of these training rows (float weights)."""
    bw = design.binary[rows_idx, : design.n_word]
    bc = design.binary[rows_idx, design.n_word :]
    idf2 = design.idf**2
    nw = np.sqrt(bw @ idf2[: design.n_word])
    nc = np.sqrt(bc @ idf2[design.n_word :])
    nw[nw == 0] = 1
    nc[nc == 0] = 1
    safe = np.ones(len(rows_idx))
    for head in heads.values():
        z = head.bias + (bw @ head.weights[: design.n_word]) / nw + (bc @ head.weights[design.n_word :]) / nc
        safe *= 1 - 1 / (1 + np.exp(-z))
    return 1 - safe


def f1(truth: np.ndarray, pred: np.ndarray) -> float:
    tp = int((truth & pred).sum())
    fp = int((~truth & pred).sum())
    fn = int((truth & ~pred).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def choose_threshold(design: Design, rows: Sequence[Row]) -> tuple[float, list[dict[str, float]]]:
    """Grouped K-fold CV on the training data -> (threshold, sweep)."""
    index = np.array([r.index for r in rows])
    synth_rows = index < 0
    held = np.array([r.held for r in rows])
    unsafe = np.array([r.unsafe for r in rows])
    langs = np.array([r.lang for r in rows])
    prompt_ids = np.unique(index[~synth_rows])
    oof = np.full(len(rows), np.nan)
    dev = np.zeros(len(rows))
    for f in range(CV_FOLDS):
        fold = np.isin(index, prompt_ids[f::CV_FOLDS])
        heads = fit_heads(design, rows, (~fold & ~synth_rows) | (synth_rows & ~held))
        oof[fold] = predict(design, heads, np.flatnonzero(fold))
        dev[held] += predict(design, heads, np.flatnonzero(held)) / CV_FOLDS
    sweep = []
    for t in np.round(np.arange(0.05, 0.951, 0.01), 2):
        mod = [f1(unsafe[~synth_rows & (langs == lang)], oof[~synth_rows & (langs == lang)] >= t) for lang in D.LANGS]
        sweep.append({
            "threshold": float(t),
            "cv_mean_f1": round(float(np.mean(mod)), 4),
            "dev_fpr": round(float((dev[held & ~unsafe] >= t).mean()), 4),
            "dev_recall": round(float((dev[held & unsafe] >= t).mean()), 4),
        })
    ok = [s for s in sweep if s["dev_fpr"] <= MAX_DEV_FPR] or sweep
    best = max(ok, key=lambda s: (s["cv_mean_f1"], -s["threshold"]))
    return best["threshold"], sweep


def to_artifact(design: Design, heads: dict[str, Head], threshold: float, meta: dict[str, Any]) -> dict[str, Any]:
    blob_heads = {}
    for name, head in heads.items():
        scale, codes = quantize(head.weights.tolist())
        blob_heads[name] = {"bias": round(head.bias, 6), "scale": float(f"{scale:.6g}"), "weights": pack(codes)}
    vocab = "\n".join(design.vocab).encode("utf-8")
    import base64
    import zlib

    return {
        **meta,
        "format": FORMAT,
        "feature_version": features.VERSION,
        "model": {
            "categories": list(D.CATEGORIES),
            "threshold": threshold,
            "n_word": design.n_word,
            "vocab": base64.b64encode(zlib.compress(vocab, 9)).decode("ascii"),
            "idf": pack(array("f", design.idf.tolist())),
            "heads": blob_heads,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.guards.embedded.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=D.DEFAULT_DATA, help="the shared safety data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_ARTIFACT, help="artifact to write")
    parser.add_argument("--no-eval", action="store_true", help="skip the test-split evaluation (not recorded then)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rows = training_rows(args.data)
    design = Design([r.text for r in rows])
    print(f"{len(rows)} training texts ({sum(r.index >= 0 for r in rows)} moderation, {sum(r.index < 0 for r in rows)} synthetic); "
          f"vocabulary {len(design.vocab)} ({design.n_word} word, {len(design.vocab) - design.n_word} char) "
          f"[{time.perf_counter() - started:.0f} s]")
    threshold, sweep = choose_threshold(design, rows)
    chosen = next(s for s in sweep if s["threshold"] == threshold)
    print(f"threshold {threshold}: CV mean F1 {chosen['cv_mean_f1']}, synthetic dev FPR {chosen['dev_fpr']}, "
          f"recall {chosen['dev_recall']} [{time.perf_counter() - started:.0f} s]")
    heads = fit_heads(design, rows, np.ones(len(rows), dtype=bool))
    meta = {
        "split": {
            "moderation": f"by prompt index, same for every language: index % {D.SPLIT_MODULUS} in {list(D.TEST_REMAINDERS)} is test",
            "xstest": "test only, never trained on",
            "synthetic": f"synth.generate(seed={SYNTH_SEED}), training only",
        },
        "training": {
            "n_moderation": sum(r.index >= 0 for r in rows),
            "n_synthetic": sum(r.index < 0 for r in rows),
            "vocabulary": len(design.vocab),
            "C": C, "min_df": MIN_DF, "nb_alpha": NB_ALPHA, "cv_folds": CV_FOLDS, "max_dev_fpr": MAX_DEV_FPR,
            "threshold_cv": chosen,
            "scikit_learn": sklearn.__version__,
        },
    }
    doc = to_artifact(design, heads, threshold, meta)
    args.out.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) [{time.perf_counter() - started:.0f} s]")
    if not args.no_eval:
        # Measured with the runtime guard read back from the artifact: what ships.
        result = evaluate(EmbeddedGuard.load(args.out), args.data)
        doc["test"] = result
        args.out.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
        print(table(result))
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
