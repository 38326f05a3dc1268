"""The framework dispatch: which frontend a path or an object goes to, and the clean refusals."""

import pytest

from kaena.errors import KaenaError
from kaena.frontends import FRAMEWORKS, detect_framework, list_operators


@pytest.mark.parametrize("name, framework", [
    ("m.onnx", "onnx"), ("m.ONNX", "onnx"), ("m.pt2", "torch"), ("frozen.pb", "tensorflow"),
    ("m.keras", "tensorflow"), ("resnet-symbol.json", "mxnet"),
])
def test_framework_from_the_path(tmp_path, name, framework):
    assert detect_framework(str(tmp_path / name)) == framework


def test_saved_model_directory_is_tensorflow(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"")
    assert detect_framework(tmp_path) == "tensorflow"


def test_unknown_format_names_the_file_and_the_formats(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"\0")
    with pytest.raises(KaenaError, match=r"model\.bin: unsupported model format '\.bin'.*\.pt2.*--framework"):
        detect_framework(path)


def test_missing_file():
    with pytest.raises(KaenaError, match="nowhere.xyz: no such model file"):
        detect_framework("nowhere.xyz")


def test_foreign_object_is_refused():
    with pytest.raises(KaenaError, match="cannot compile a dict"):
        detect_framework({})


def test_onnx_model_proto():
    import onnx

    assert detect_framework(onnx.ModelProto()) == "onnx"


def test_unknown_framework_name():
    with pytest.raises(KaenaError, match="--framework 'caffe' is not one of"):
        list_operators("caffe")
    assert "onnx" in FRAMEWORKS


def test_default_neff_path_beside_the_model(tmp_path):
    from kaena.tools.kaena_compile_main import default_output

    (tmp_path / "saved").mkdir()
    assert default_output("a/net.onnx") == "a/net.neff"
    assert default_output("a/resnet-symbol.json") == "a/resnet.neff"
    assert default_output(str(tmp_path / "saved") + "/") == str(tmp_path / "saved") + ".neff"
    assert default_output("m.pt2") == "m.neff"
