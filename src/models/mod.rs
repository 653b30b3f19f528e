//! Models: one file per model, each with its own config struct. Every model is a
//! `tch::nn::ModuleT`: images `[N,3,H,W]` float or token ids `[N,L]` int64 in, logits `[N,C]` out.
pub mod bilstm;
pub mod blocks;
pub mod emotionnet_v1;
pub mod emotionnet_v2;
pub mod emotionnet_v3;
pub mod groups;
pub mod init;
pub mod minilm;
pub mod mobilenet_v2;
pub mod registry;
pub mod resnet;
pub mod torchvision;
pub mod weights;
