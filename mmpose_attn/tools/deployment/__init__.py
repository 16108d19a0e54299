"""ONNX deployment of the package's pose models: export
(:mod:`.pytorch2onnx`), ONNX Runtime inference (:mod:`.onnx_inference`),
eager-vs-ONNX-Runtime latency (:mod:`.benchmark_onnx`), all over
:mod:`.core`. Needs the ``deploy`` extra (``onnx``, ``onnxruntime``)."""
