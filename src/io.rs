//! Weights in and out as safetensors files, keyed by PyTorch's state_dict
//! names. (Written by the io work in progress.)
