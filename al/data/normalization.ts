/**
 * Per-channel mean and std of the models' input normalisation (`normalize` in transforms.ts
 * applies them): the student's and the classifier teachers' (torchvision ImageNet models), and
 * CLIP's.
 */

/** torchvision ImageNet models (the student, ResNet/MobileNet teachers). */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];
/** CLIP's image normalisation (openai/CLIP `_transform`). */
export const CLIP_MEAN: readonly number[] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: readonly number[] = [0.26862954, 0.26130258, 0.27577711];
