package org.burstdeblur.harness;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/** One .tflite graph compiled for the CPU through the LiteRT C API, with host buffers for its tensors. */
public final class CompiledGraph implements AutoCloseable {
    private final LiteRtC api;
    private final Pointer environment;
    private final Pointer model;
    private final Pointer options;
    private final Pointer compiled;
    private final Pointer[] inputs;
    private final Pointer[] outputs;

    public CompiledGraph(LiteRtC api, Pointer environment, String path) {
        this.api = api;
        this.environment = environment;
        PointerByReference ref = new PointerByReference();
        check(api.LiteRtCreateModelFromFile(environment, path, ref), "load " + path);
        model = ref.getValue();
        check(api.LiteRtGetModelSignature(model, 0, ref), "signature");
        Pointer signature = ref.getValue();
        LongByReference count = new LongByReference();
        check(api.LiteRtCreateOptions(ref), "options");
        options = ref.getValue();
        check(api.LiteRtSetOptionsHardwareAccelerators(options, LiteRtC.ACCELERATOR_CPU), "accelerators");
        check(api.LiteRtCreateCompiledModel(environment, model, options, ref), "compile " + path);
        compiled = ref.getValue();
        check(api.LiteRtGetNumSignatureInputs(signature, count), "inputs");
        inputs = new Pointer[(int) count.getValue()];
        for (int i = 0; i < inputs.length; i++) {
            check(api.LiteRtGetSignatureInputTensorByIndex(signature, i, ref), "input tensor");
            inputs[i] = buffer(ref.getValue(), true, i);
        }
        check(api.LiteRtGetNumSignatureOutputs(signature, count), "outputs");
        outputs = new Pointer[(int) count.getValue()];
        for (int i = 0; i < outputs.length; i++) {
            check(api.LiteRtGetSignatureOutputTensorByIndex(signature, i, ref), "output tensor");
            outputs[i] = buffer(ref.getValue(), false, i);
        }
    }

    private Pointer buffer(Pointer tensor, boolean input, int index) {
        Memory type = new Memory(LiteRtC.RANKED_TENSOR_TYPE_BYTES);
        type.clear();
        check(api.LiteRtGetRankedTensorType(tensor, type), "tensor type");
        PointerByReference ref = new PointerByReference();
        check(input ? api.LiteRtGetCompiledModelInputBufferRequirements(compiled, 0, index, ref)
                : api.LiteRtGetCompiledModelOutputBufferRequirements(compiled, 0, index, ref), "requirements");
        Pointer requirements = ref.getValue();
        check(api.LiteRtCreateManagedTensorBufferFromRequirements(environment, type, requirements, ref), "buffer");
        return ref.getValue();
    }

    /** Copies int8 codes into input {@code index} (its packed size must match). */
    public void setInput(int index, byte[] codes) {
        LongByReference size = new LongByReference();
        check(api.LiteRtGetTensorBufferPackedSize(inputs[index], size), "size");
        if (size.getValue() != codes.length) {
            throw new IllegalArgumentException("input " + index + " holds " + size.getValue() + " bytes, got " + codes.length);
        }
        PointerByReference host = new PointerByReference();
        check(api.LiteRtLockTensorBuffer(inputs[index], host, LiteRtC.LOCK_WRITE), "lock");
        host.getValue().write(0, codes, 0, codes.length);
        check(api.LiteRtUnlockTensorBuffer(inputs[index]), "unlock");
    }

    public void run() {
        check(api.LiteRtRunCompiledModel(compiled, 0, inputs.length, inputs, outputs.length, outputs), "run");
    }

    public byte[] output(int index) {
        LongByReference size = new LongByReference();
        check(api.LiteRtGetTensorBufferPackedSize(outputs[index], size), "size");
        PointerByReference host = new PointerByReference();
        check(api.LiteRtLockTensorBuffer(outputs[index], host, LiteRtC.LOCK_READ), "lock");
        byte[] out = host.getValue().getByteArray(0, (int) size.getValue());
        check(api.LiteRtUnlockTensorBuffer(outputs[index]), "unlock");
        return out;
    }

    static void check(int status, String what) {
        if (status != LiteRtC.OK) {
            throw new IllegalStateException("LiteRT C API: " + what + " failed with status " + status);
        }
    }

    @Override
    public void close() {
        for (Pointer b : inputs) {
            api.LiteRtDestroyTensorBuffer(b);
        }
        for (Pointer b : outputs) {
            api.LiteRtDestroyTensorBuffer(b);
        }
        api.LiteRtDestroyCompiledModel(compiled);
        api.LiteRtDestroyOptions(options);
        api.LiteRtDestroyModel(model);
    }
}
