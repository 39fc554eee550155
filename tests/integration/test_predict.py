"""`inferd predict` in-process: formats, outputs, classification, bad rows (docs/batch.md)."""

import json

import numpy as np

from predict_helpers import mlp_rows, predict, read_jsonl, server_logits, write_jsonl


def test_jsonl_rows_are_scored_in_input_order_as_the_server_scores_them(model_repo, client,
                                                                         tmp_path):
    rows = mlp_rows(300)
    write_jsonl(tmp_path / "in.jsonl", rows)
    proc = predict("--model-repository", model_repo, "--model", "mlp", "--input",
                   tmp_path / "in.jsonl", "--output", tmp_path / "out.jsonl", "--block-rows", 100,
                   "--outputs", "logits")
    out = read_jsonl(tmp_path / "out.jsonl")
    assert [list(o) for o in out] == [["logits"]] * 300
    got = np.array([o["logits"] for o in out], dtype=np.float32)
    np.testing.assert_allclose(got, server_logits(client, rows), rtol=1e-5, atol=1e-6)
    assert "300 rows scored, 0 failed" in proc.stderr
    assert not (tmp_path / "out.jsonl.errors.jsonl").exists()
    assert not (tmp_path / "out.jsonl.checkpoint").exists()


def test_classification_and_v2_request_lines(model_repo, tmp_path):
    rows = mlp_rows(3)
    with open(tmp_path / "in.jsonl", "w") as f:
        f.write(json.dumps({"input": rows[0].tolist()}) + "\n")
        f.write(json.dumps({"inputs": [{"name": "input", "shape": [2, 64], "datatype": "FP32",
                                        "data": rows[1:].flatten().tolist()}]}) + "\n")
    predict("--model-repository", model_repo, "--model", "mlp", "--input", tmp_path / "in.jsonl",
            "--output", tmp_path / "out.jsonl", "--outputs", "probabilities",
            "--classification", 2)
    by_name, v2 = read_jsonl(tmp_path / "out.jsonl")
    top = by_name["probabilities"]
    assert len(top) == 2 and all(len(t.split(":")) == 3 for t in top)  # score:index:label
    assert v2["model_name"] == "mlp"
    assert v2["outputs"][0]["name"] == "probabilities"
    assert v2["outputs"][0]["shape"] == [2, 2]


def test_bad_rows_go_to_the_error_file_with_their_lines(model_repo, tmp_path):
    good = mlp_rows(4)
    lines = [json.dumps({"input": good[0].tolist()}),
             json.dumps({"input": good[1].tolist()[:63]}),        # line 2: wrong width
             json.dumps({"input": ["x"] * 64}),                   # line 3: not numbers
             "{not json",                                         # line 4
             json.dumps({"other": good[2].tolist()}),             # line 5: missing input
             json.dumps({"input": good[3].tolist()})]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    proc = predict("--model-repository", model_repo, "--model", "mlp", "--input",
                   tmp_path / "in.jsonl", "--output", tmp_path / "out.jsonl", check_rc=2)
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 2
    errors = read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert [e["line"] for e in errors] == [2, 3, 4, 5]
    assert "input 'input'" in errors[0]["error"]
    assert "input 'input' is missing" == errors[3]["error"]
    assert "2 rows scored, 4 failed" in proc.stderr

    predict("--model-repository", model_repo, "--model", "mlp", "--input", tmp_path / "in.jsonl",
            "--output", tmp_path / "ff.jsonl", "--fail-fast", check_rc=2)
    assert len(read_jsonl(tmp_path / "ff.jsonl")) == 1
    assert [e["line"] for e in read_jsonl(tmp_path / "ff.jsonl.errors.jsonl")] == [2]


def test_csv_columns_by_name_and_npy_in_and_out(model_repo, client, tmp_path):
    rows = mlp_rows(70)
    names = [f"f{i}" for i in range(64)]
    with open(tmp_path / "in.csv", "w") as f:
        f.write(",".join(["id"] + names[::-1]) + "\n")  # an extra column, the features reversed
        for i, row in enumerate(rows):
            f.write(",".join([str(i)] + [repr(float(v)) for v in row[::-1]]) + "\n")
    predict("--model-repository", model_repo, "--model", "mlp", "--input", tmp_path / "in.csv",
            "--columns", ",".join(names), "--output", tmp_path / "out.csv", "--outputs", "logits")
    text = (tmp_path / "out.csv").read_text().splitlines()
    assert text[0] == ",".join(f"logits_{i}" for i in range(10))
    from_csv = np.array([[float(v) for v in line.split(",")] for line in text[1:]])
    expected = server_logits(client, rows)
    np.testing.assert_allclose(from_csv, expected, rtol=1e-5, atol=1e-6)

    np.save(tmp_path / "in.npy", rows)
    predict("--model-repository", model_repo, "--model", "mlp", "--input", tmp_path / "in.npy",
            "--output", tmp_path / "out.npy", "--outputs", "logits")
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=1e-5, atol=1e-6)


def test_npz_holds_an_array_per_input(model_repo, client, tmp_path):
    a = np.arange(5 * 16, dtype=np.float32).reshape(5, 16)
    b = np.ones((5, 16), dtype=np.float32)
    np.savez(tmp_path / "in.npz", INPUT0=a, INPUT1=b)
    predict("--model-repository", model_repo, "--model", "simple", "--input",
            tmp_path / "in.npz", "--output", tmp_path / "out.npy", "--outputs", "OUTPUT1")
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), a - b)


def test_npz_output_holds_an_array_per_output_and_leaves_no_parts(model_repo, tmp_path):
    rows = mlp_rows(70)
    np.save(tmp_path / "in.npy", rows)
    common = ["--model-repository", model_repo, "--model", "mlp", "--input", tmp_path / "in.npy",
              "--block-rows", 32]
    predict(*common, "--output", tmp_path / "logits.npy", "--outputs", "logits")
    predict(*common, "--output", tmp_path / "probabilities.npy", "--outputs", "probabilities")
    predict(*common, "--output", tmp_path / "out.npz", "--outputs", "probabilities,logits")
    with np.load(tmp_path / "out.npz") as npz:
        assert npz.files == ["probabilities", "logits"]  # --outputs order
        for name in npz.files:
            assert npz[name].shape == (70, 10) and npz[name].dtype == np.float32
            np.testing.assert_array_equal(npz[name], np.load(tmp_path / f"{name}.npy"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in.npy", "logits.npy", "out.npz", "probabilities.npy"]

    # All the model's outputs by default.
    a = np.arange(5 * 16, dtype=np.float32).reshape(5, 16)
    np.savez(tmp_path / "in.npz", INPUT0=a, INPUT1=np.ones((5, 16), dtype=np.float32))
    predict("--model-repository", model_repo, "--model", "simple", "--input",
            tmp_path / "in.npz", "--output", tmp_path / "simple.npz")
    with np.load(tmp_path / "simple.npz") as npz:
        assert sorted(npz.files) == ["OUTPUT0", "OUTPUT1"]
        np.testing.assert_array_equal(npz["OUTPUT0"], a + 1)
        np.testing.assert_array_equal(npz["OUTPUT1"], a - 1)


def test_npz_output_refuses_bytes_outputs(model_repo, tmp_path):
    np.save(tmp_path / "in.npy", mlp_rows(3))
    proc = predict("--model-repository", model_repo, "--model", "mlp", "--input",
                   tmp_path / "in.npy", "--output", tmp_path / "out.npz", "--classification", 2,
                   check_rc=1)
    assert ".npz holds numbers only" in proc.stderr


def test_unusable_inputs_are_refused_with_a_reason(model_repo, tmp_path):
    np.save(tmp_path / "in.npy", np.zeros((3, 5), dtype=np.float32))
    proc = predict("--model-repository", model_repo, "--model", "mlp", "--input",
                   tmp_path / "in.npy", "--output", tmp_path / "out.jsonl", check_rc=1)
    assert "does not hold rows of input 'input'" in proc.stderr
    proc = predict("--model-repository", model_repo, "--model", "nosuch", "--input",
                   tmp_path / "in.npy", "--output", tmp_path / "out.jsonl", check_rc=1)
    assert "nosuch" in proc.stderr
