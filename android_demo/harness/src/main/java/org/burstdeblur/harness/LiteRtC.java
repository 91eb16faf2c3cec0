package org.burstdeblur.harness;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The part of the LiteRT 2.x C API (CompiledModel) this harness needs, bound through JNA to the
 * libLiteRt.so of the pinned ai-edge-litert 2.3.0 wheel. The C API changes between versions (in 2.3.0,
 * LiteRtCreateModelFromFile takes the environment first), so the wheel version is pinned. size_t and
 * LiteRtParamIndex are 64-bit on the Linux/Android targets here; handles are opaque pointers; the ranked
 * tensor type is passed through as opaque memory (it is only read by LiteRT itself).
 */
public interface LiteRtC extends Library {
    int OK = 0;
    int ACCELERATOR_CPU = 1;
    int LOCK_READ = 0;
    int LOCK_WRITE = 1;
    int RANKED_TENSOR_TYPE_BYTES = 256; // > sizeof(LiteRtRankedTensorType) (72 in 2.3.0)

    static LiteRtC load(String path) {
        return Native.load(path, LiteRtC.class);
    }

    int LiteRtCreateEnvironment(int numOptions, Pointer options, PointerByReference environment);

    void LiteRtDestroyEnvironment(Pointer environment);

    int LiteRtCreateModelFromFile(Pointer environment, String path, PointerByReference model);

    void LiteRtDestroyModel(Pointer model);

    int LiteRtGetModelSignature(Pointer model, long index, PointerByReference signature);

    int LiteRtGetNumSignatureInputs(Pointer signature, LongByReference count);

    int LiteRtGetNumSignatureOutputs(Pointer signature, LongByReference count);

    int LiteRtGetSignatureInputTensorByIndex(Pointer signature, long index, PointerByReference tensor);

    int LiteRtGetSignatureOutputTensorByIndex(Pointer signature, long index, PointerByReference tensor);

    int LiteRtGetRankedTensorType(Pointer tensor, Memory rankedTensorType);

    int LiteRtCreateOptions(PointerByReference options);

    void LiteRtDestroyOptions(Pointer options);

    int LiteRtSetOptionsHardwareAccelerators(Pointer options, int accelerators);

    int LiteRtCreateCompiledModel(Pointer environment, Pointer model, Pointer options, PointerByReference compiled);

    void LiteRtDestroyCompiledModel(Pointer compiled);

    int LiteRtGetCompiledModelInputBufferRequirements(Pointer compiled, long signature, long index,
            PointerByReference requirements);

    int LiteRtGetCompiledModelOutputBufferRequirements(Pointer compiled, long signature, long index,
            PointerByReference requirements);

    int LiteRtCreateManagedTensorBufferFromRequirements(Pointer environment, Memory rankedTensorType,
            Pointer requirements, PointerByReference buffer);

    void LiteRtDestroyTensorBuffer(Pointer buffer);

    int LiteRtGetTensorBufferPackedSize(Pointer buffer, LongByReference size);

    int LiteRtLockTensorBuffer(Pointer buffer, PointerByReference hostMemory, int mode);

    int LiteRtUnlockTensorBuffer(Pointer buffer);

    int LiteRtRunCompiledModel(Pointer compiled, long signature, long numInputs, Pointer[] inputs, long numOutputs,
            Pointer[] outputs);
}
