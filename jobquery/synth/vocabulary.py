"""The platform's vocabularies: statuses, job types, images, specs, names, users, tags.

The fixed facts and weights the catalogues are built from; changing one changes the jobs.
"""

from __future__ import annotations

from typing import Final

import numpy as np

#: The 13 job statuses of the API (spec §3.4).
STATUSES: Final = (
    "Creating",
    "Queuing",
    "Bidding",
    "EnvPreparing",
    "SanityChecking",
    "Running",
    "Restarting",
    "Stopping",
    "SucceededReserving",
    "FailedReserving",
    "Succeeded",
    "Failed",
    "Stopped",
)
# The share of each status among active jobs and among finished ones. How many jobs are still
# active depends on their age: _ACTIVE_BASE + _ACTIVE_RECENT * exp(-age / _ACTIVE_DAYS).
_ACTIVE_WEIGHTS: Final = {
    "Creating": 0.04,
    "Queuing": 0.08,
    "Bidding": 0.035,
    "EnvPreparing": 0.05,
    "SanityChecking": 0.035,
    "Running": 0.60,
    "Restarting": 0.04,
    "Stopping": 0.035,
    "SucceededReserving": 0.045,
    "FailedReserving": 0.04,
}
_FINISHED_WEIGHTS: Final = {"Succeeded": 0.58, "Failed": 0.24, "Stopped": 0.18}
_ACTIVE_BASE, _ACTIVE_RECENT, _ACTIVE_DAYS = 0.04, 0.9, 10.0
_RECENT_SHARE, _RECENT_SPAN = 0.15, 30 * 86_400

# A status's phase decides which times exist and which StatusHistory entries lead to it.
_CREATING, _WAITING, _ACTIVE, _RESERVING, _FINISHED = range(5)
_PHASE: Final = {
    "Creating": _CREATING,
    "Queuing": _WAITING,
    "Bidding": _WAITING,
    "EnvPreparing": _WAITING,
    "SanityChecking": _WAITING,
    "Running": _ACTIVE,
    "Restarting": _ACTIVE,
    "Stopping": _ACTIVE,
    "SucceededReserving": _RESERVING,
    "FailedReserving": _RESERVING,
    "Succeeded": _FINISHED,
    "Failed": _FINISHED,
    "Stopped": _FINISHED,
}
_END_TIME_KEY: Final = {  # "Successed" is the API's spelling
    "SucceededReserving": "GmtSuccessedTime",
    "FailedReserving": "GmtFailedTime",
    "Succeeded": "GmtSuccessedTime",
    "Failed": "GmtFailedTime",
    "Stopped": "GmtStoppedTime",
}
# The share of stopped and failed jobs that ended while still queuing.
_NEVER_RAN: Final = {"Stopped": 0.15, "Failed": 0.10}

# (ReasonCode, ReasonMessage, SubStatus) variants of each status.
_REASONS: Final[dict[str, list[tuple[str, str, str | None]]]] = {
    "Creating": [("JobCreating", "Job is being created.", None)],
    "Queuing": [
        ("JobEnqueued", "Job is enqueued and waiting for resources.", None),
        ("InsufficientQuota", "Waiting for resources: GPU quota exhausted.", None),
        ("JobEnqueued", "Job is queuing behind higher priority jobs.", None),
    ],
    "Bidding": [("JobBidding", "Bidding for spot instances at the price limit.", None)],
    "EnvPreparing": [
        ("JobEnvPreparing", "Preparing the job environment: pulling image.", None),
        ("JobEnvPreparing", "Mounting data sources.", None),
    ],
    "SanityChecking": [("JobSanityChecking", "Running node sanity checks.", None)],
    "Running": [
        ("JobRunning", "Job is running.", None),
        ("JobRunning", "Job is running.", "Normal"),
    ],
    "Restarting": [
        ("JobRestarting", "Job is restarting after a node failure.", "Restarting"),
        ("JobPreempted", "Job was preempted and is restarting.", "Restarting"),
    ],
    "Stopping": [("JobStopping", "Job is being stopped by user.", None)],
    "SucceededReserving": [("JobSucceeded", "Job succeeded; resources are reserved.", None)],
    "FailedReserving": [("JobFailed", "Job failed; resources are reserved.", None)],
    "Succeeded": [
        ("JobSucceeded", "Job has succeeded.", None),
        ("JobSucceeded", "Job has succeeded.", "Normal"),
        ("", "", None),
    ],
    "Failed": [
        ("JobFailed", "Pod worker-0 exited with code 1.", None),
        ("OOMKilled", "Container was killed: out of memory (OOMKilled).", None),
        ("ImagePullBackOff", "Failed to pull image: manifest unknown.", None),
        ("NodeFailure", "Node became NotReady; NCCL timeout on rank 3.", None),
        ("JobTimeout", "Job exceeded JobMaxRunningTimeMinutes and was killed.", None),
        ("InvalidParameter", "The specified EcsSpec is not available in this region.", None),
        ("JobFailed", "训练任务失败: CUDA error: out of memory", None),
    ],
    "Stopped": [
        ("JobStoppedByUser", "Job is stopped by user.", None),
        ("JobStoppedBySystem", "Job is stopped by the system: quota was reclaimed.", None),
        ("JobStoppedByUser", "Job is stopped by user.", "Evicted"),
    ],
}

_JOB_TYPES: Final = {
    "PyTorchJob": 0.52,
    "TFJob": 0.17,
    "XGBoostJob": 0.09,
    "OneFlowJob": 0.06,
    "ElasticBatchJob": 0.08,
    "MPIJob": 0.045,
    "RayJob": 0.035,
}
_ROLE_LAYOUTS: Final[dict[str, list[tuple[tuple[str, ...], float]]]] = {
    "PyTorchJob": [(("Worker",), 0.7), (("Master", "Worker"), 0.3)],
    "TFJob": [(("Worker",), 0.5), (("PS", "Worker"), 0.35), (("Chief", "PS", "Worker"), 0.15)],
    "XGBoostJob": [(("Worker",), 0.5), (("Master", "Worker"), 0.5)],
    "OneFlowJob": [(("Worker",), 1.0)],
    "ElasticBatchJob": [(("Worker",), 0.5), (("Master", "Worker"), 0.5)],
    "MPIJob": [(("Master", "Worker"), 1.0)],
    "RayJob": [(("Head", "Worker"), 1.0)],
}
_ROLES: Final = ("Worker", "Master", "PS", "Chief", "Head")
_CPU_ROLES: Final = frozenset({"PS", "Head"})
_MAX_ROLES: Final = 3

_PAI = "dsw-registry.cn-hangzhou.aliyuncs.com/pai"
_IMAGES: Final[dict[str, list[str]]] = {
    "PyTorchJob": [
        f"{_PAI}/pytorch-training:2.1-gpu-py310-cu121-ubuntu22.04",
        f"{_PAI}/pytorch-training:2.3-gpu-py311-cu121-ubuntu22.04",
        f"{_PAI}/pytorch-training:1.12-gpu-py39-cu113-ubuntu20.04",
        "dsw-registry-vpc.cn-shanghai.aliyuncs.com/pai/modelscope:1.14.0-pytorch2.1.2-gpu-py310",
        "registry.cn-hangzhou.aliyuncs.com/llm-team/megatron-lm:24.05-py3",
        "registry-vpc.cn-hangzhou.aliyuncs.com/nlp-lab/deepspeed-train:v0.14.2",
        "ghcr.io/custom/llama-factory:0.8.3",
    ],
    "TFJob": [
        f"{_PAI}/tensorflow-training:2.12-gpu-py310-cu118-ubuntu20.04",
        f"{_PAI}/tensorflow-training:1.15-cpu-py36-ubuntu18.04",
        "registry.cn-hangzhou.aliyuncs.com/pai-dlc/tensorflow-training:1.12.2PAI-cpu-py27-ubuntu16.04",
        f"{_PAI}/tensorflow-training:2.8-gpu-py38-cu112-ubuntu20.04",
    ],
    "XGBoostJob": [
        f"{_PAI}/xgboost:1.6.0-cpu-py36-ubuntu18.04",
        f"{_PAI}/xgboost:2.0.3-cpu-py310-ubuntu22.04",
        "registry.cn-shanghai.aliyuncs.com/risk-ml/xgb-fraud:2024.3",
    ],
    "OneFlowJob": [
        f"{_PAI}/oneflow-training:0.9.0-gpu-py38-cu112-ubuntu20.04",
        "registry.cn-beijing.aliyuncs.com/oneflow/oneflow:0.9.1-cuda11.7",
    ],
    "ElasticBatchJob": [
        f"{_PAI}/pytorch-inference:2.1-gpu-py310-cu121-ubuntu22.04",
        "registry.cn-hangzhou.aliyuncs.com/batch/offline-embedding:v2",
    ],
    "MPIJob": [
        f"{_PAI}/horovod-training:0.28.1-pytorch2.0-gpu-py310-cu118",
        "registry.cn-hangzhou.aliyuncs.com/hpc/nccl-tests:2.13.8-cuda12.2",
    ],
    "RayJob": [f"{_PAI}/ray:2.9.3-py310-gpu-cu118", "rayproject/ray-ml:2.10.0-py310-gpu"],
}

# Public-resource instance types by GPUs per pod: (EcsSpec, CPU, memory GiB, GPU type).
_ECS_SPECS: Final[dict[int, list[tuple[str, int, int, str]]]] = {
    0: [
        ("ecs.c6.large", 2, 4, ""),
        ("ecs.g6.2xlarge", 8, 32, ""),
        ("ecs.g7.4xlarge", 16, 64, ""),
        ("ecs.r7.8xlarge", 32, 256, ""),
    ],
    1: [
        ("ecs.gn6v-c8g1.2xlarge", 8, 32, "Tesla-V100-16G"),
        ("ecs.gn7i-c8g1.2xlarge", 8, 30, "NVIDIA-A10"),
        ("ecs.gn6i-c4g1.xlarge", 4, 15, "Tesla-T4"),
    ],
    2: [("ecs.gn7i-c32g1.16xlarge", 64, 376, "NVIDIA-A10")],
    4: [("ecs.gn6v-c8g1.8xlarge", 32, 128, "Tesla-V100-16G")],
    8: [
        ("ecs.gn6v-c8g1.16xlarge", 64, 256, "Tesla-V100-16G"),
        ("ecs.gn7e-c16g1.32xlarge", 128, 1024, "A100-SXM4-80GB"),
        ("ecs.ebmgn8v.48xlarge", 192, 1024, "H20"),
    ],
}
_QUOTA_GPU_TYPES: Final = ("A100-SXM4-80GB", "A800-SXM4-80GB", "H800", "L20", "GU8TF")
# Node names are "<region>.<ip>"; the regions have equal length so the text is fixed-width.
_REGIONS: Final = ("cn-hangzhou", "cn-shanghai", "cn-shenzhen")
_REGION_TEXT: Final = np.frombuffer("".join(_REGIONS).encode(), dtype=np.uint8).reshape(3, 11)

# Display names: (base, weight). ASCII bases also appear Title-cased and upper-cased.
_NAME_BASES: Final[list[tuple[str, float]]] = [
    ("tf-mnist-test", 2.0),
    ("pytorch-mnist-ddp", 1.5),
    ("mnist-cnn-baseline", 1.0),
    ("bert-base-finetune", 4.0),
    ("bert-large-pretrain", 2.0),
    ("llama2-7b-sft", 4.0),
    ("llama3-8b-lora", 4.0),
    ("qwen2-72b-pretrain", 3.0),
    ("qwen-7b-chat-sft", 4.0),
    ("chatglm3-6b-ptuning", 2.0),
    ("baichuan2-13b-sft", 1.5),
    ("resnet50-imagenet", 3.0),
    ("vit-b16-imagenet", 1.5),
    ("yolov8-detect", 2.5),
    ("sdxl-finetune", 1.5),
    ("whisper-asr-zh", 1.5),
    ("xgboost-ctr", 3.0),
    ("xgb-fraud-detection", 1.5),
    ("lightgbm-ranking", 1.0),
    ("wide-deep-rec", 2.0),
    ("deepfm-ctr", 2.0),
    ("dssm-recall", 1.5),
    ("din-rank", 1.0),
    ("mmoe-multitask", 1.0),
    ("gpt2-distill", 1.0),
    ("t5-summarize", 1.0),
    ("roberta-ner", 1.0),
    ("ocr-crnn", 1.0),
    ("unet-segmentation", 1.0),
    ("ppo-rlhf", 1.5),
    ("dpo-alignment", 1.5),
    ("reward-model", 1.0),
    ("embedding-bge", 1.0),
    ("eval-mmlu", 2.0),
    ("data-preprocess", 2.5),
    ("feature-extract", 1.5),
    ("hyperparam-search", 1.0),
    ("nightly-regression", 2.0),
    ("nccl-allreduce-bench", 1.0),
    ("dlc-job", 2.0),
    ("test", 2.0),
    ("demo", 1.0),
    ("debug_job", 1.0),
    ("训练-bert-大模型", 1.5),
    ("推荐模型-ctr-训练", 1.0),
    ("图像分类-resnet", 0.8),
    ("大模型-微调-qwen", 1.2),
    ("Straße-routing", 0.4),
    ("straße-eta-model", 0.3),
    ("İstanbul-traffic-forecast", 0.4),
    ("λόγος-nlp-train", 0.4),
    ("café-recsys", 0.3),
    ("Größe-estimator", 0.2),
]

_COMMANDS: Final[dict[str, list[str]]] = {
    "PyTorchJob": [
        "python /root/code/train.py --epochs {e} --batch-size {b} --lr 0.001",
        "torchrun --nproc_per_node=8 --nnodes=$WORLD_SIZE /mnt/code/llm/sft.py --config {cfg}",
        "python /root/code/mnist.py --epochs {e} --backend nccl",
        "deepspeed --num_gpus 8 /mnt/code/ds_train.py --deepspeed ds_config_zero3.json",
        "bash /mnt/workspace/scripts/run_pretrain.sh {cfg}",
        "python -m torch.distributed.run /root/code/resnet/main.py -a resnet50 --epochs {e}",
        "llamafactory-cli train /mnt/code/examples/{cfg}",
        "python /mnt/data/eval/run_mmlu.py --model /mnt/model --shots 5",
    ],
    "TFJob": [
        "python /root/code/mnist.py",
        "python /root/code/train_estimator.py --train_steps {s} --batch_size {b}",
        "python /root/code/deepfm/train.py --epochs {e} --ps_hosts=$PS_HOSTS",
        "python /root/code/wide_deep.py --model_dir oss://pai-bucket/models/wd --epochs {e}",
    ],
    "XGBoostJob": [
        "python /root/code/xgb_train.py --num_round {r} --max_depth 8",
        "python /root/code/fraud/train.py --num-round {r} --eta 0.1",
    ],
    "OneFlowJob": [
        "python3 -m oneflow.distributed.launch --nproc_per_node 8 /root/code/train.py",
        "python3 /root/code/libai/tools/train_net.py --config-file {cfg}",
    ],
    "ElasticBatchJob": [
        "python /root/code/batch_infer.py --input oss://pai-bucket/data --output oss://pai-out/",
        "python /root/code/embedding/encode.py --shards {e}",
    ],
    "MPIJob": [
        "mpirun -np {e} --allow-run-as-root python /root/code/horovod_train.py",
        "/opt/nccl-tests/build/all_reduce_perf -b 8 -e 8G -f 2 -g 1",
    ],
    "RayJob": [
        "python /root/code/ray_tune.py --num-samples {r}",
        "ray job submit -- python /root/code/rllib_ppo.py --stop-iters {e}",
    ],
}
_CONFIGS: Final = ("llama2_7b.yaml", "qwen2_7b_lora.yaml", "bert_base.yaml", "ds_z3.yaml")

_WORKSPACE_NAMES: Final = (
    "dlc-workspace", "nlp-research", "llm-pretrain", "推荐算法", "cv-prod", "speech-lab",
    "search-ranking", "ads-ctr", "risk-control", "autopilot-perception", "ocr-team", "default",
    "recsys-online", "multimodal", "aigc-studio", "bioinfo", "finance-quant", "edu-platform",
    "customer-service-bot", "map-eta", "video-understanding", "game-ai", "test-workspace",
    "benchmark", "data-platform", "robotics", "medical-imaging", "llm-eval", "智能客服",
    "translation", "e-commerce-search", "security-ml", "infra-sre", "sandbox",
    "intern-projects", "asr-zh", "tts", "kg-construction", "fraud-graph", "demo-ws",
)  # fmt: skip
_GIVEN_NAMES: Final = (
    "zhangwei", "wangfang", "li.na", "liuyang", "chenjie", "yangli", "zhaolei", "huangmin",
    "zhouxin", "wu_hao", "alice", "bob", "carol.smith", "dave", "erin", "frank", "grace",
    "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter", "sunqi",
    "maxiao", "zhuyi", "hujun", "guoqiang", "linfeng", "heyu", "gaoyuan", "luosha", "zhengkai",
    "xieting", "hanmei", "tangwei", "fengtao",
)  # fmt: skip
_USER_COUNT: Final = 300
_SERVICE_ACCOUNTS: Final = 12  # BusinessUserIds that are not one of the users

_CALLERS: Final = (  # the pipeline callers come first (see _PIPELINE_CALLERS)
    ("PaiFlow", 0.18),
    ("SilkFlow", 0.05),
    ("console", 0.3),
    ("sdk", 0.15),
    ("DSW", 0.1),
    ("local", 0.06),
    ("openapi", 0.1),
    ("AIWorkSpace", 0.06),
)
_PIPELINE_CALLERS: Final = 2
_TAG_VALUES: Final = {
    "team": ("nlp", "cv", "speech", "rec", "search", "infra", "llm"),
    "project": ("bert", "llama", "qwen", "ctr", "ocr", "asr", "recall", "rank"),
    "env": ("dev", "test", "staging", "prod"),
    "cost-center": ("cc-1001", "cc-2002", "cc-3003"),
}
_OVERSOLD: Final = (
    ("", 0.72),
    ("ForbiddenQuotaOverSold", 0.1),
    ("ForceQuotaOverSold", 0.05),
    ("AcceptQuotaOverSold", 0.13),
)
# The high-cardinality profile: DisplayNames are "<model>-<task>-<run suffix>".
_MODELS: Final = (
    "llama3-8b", "llama3-70b", "qwen2-7b", "qwen2.5-72b", "qwen-vl-chat", "mistral-7b",
    "mixtral-8x7b", "deepseek-v2-lite", "baichuan2-13b", "chatglm3-6b", "yi-34b", "gemma-7b",
    "phi3-mini", "internlm2-20b", "glm4-9b", "minicpm-2b", "bert-base", "bert-large",
    "roberta-large", "t5-xl", "gpt2-medium", "bloom-7b", "falcon-40b", "vit-l16", "resnet50",
    "resnet101", "efficientnet-b7", "yolov8x", "sam-vit-h", "sdxl", "sd15-controlnet",
    "whisper-large", "wav2vec2", "mnist-cnn", "lenet-mnist", "xgboost-ctr", "deepfm", "din",
    "dien", "wide-deep", "dssm", "mmoe", "graphsage", "bge-m3", "clip-vit", "blip2",
    "internvl", "大模型", "推荐模型",
)  # fmt: skip
_TASKS: Final = (
    "sft", "pretrain", "lora", "qlora", "dpo", "rlhf-ppo", "eval", "eval-mmlu", "infer",
    "batch-infer", "distill", "quantize", "finetune", "continue-pretrain", "ablation", "hpo",
    "export", "data-clean", "tokenize", "embedding", "rerank", "benchmark", "debug",
    "smoke-test", "nightly", "canary", "train", "train-ddp", "train-fsdp", "train-zero3",
)  # fmt: skip
#: Names without a run suffix, shared by many jobs (6% of them).
_COMMON_NAMES: Final = (
    ("test", 2.0), ("debug", 1.5), ("tmp", 1.0), ("my-job", 0.8), ("untitled", 0.6),
    ("demo", 0.5), ("dlc-job", 0.5), ("测试任务", 0.3),
)  # fmt: skip
_COMMON_NAME_SHARE: Final = 0.06
_HIGH_USER_COUNT: Final = 30_000
_HIGH_WORKSPACE_COUNT: Final = 400
_EXPERIMENT_COUNT: Final = 4_000
_PRIORITIES: Final = (0.45, 0.08, 0.12, 0.05, 0.1, 0.05, 0.06, 0.04, 0.05)  # Priority 1..9
_MAX_MINUTES: Final = (
    (0, 0.6), (60, 0.05), (120, 0.05), (720, 0.1), (1440, 0.1), (4320, 0.05), (10080, 0.05),
)  # fmt: skip
_RETRIES: Final = ((None, 0.75), (0, 0.1), (1, 0.05), (2, 0.04), (3, 0.04), (5, 0.02))
# EnablePreemptibleJob and EnabledDebugger: absent, or (preemptible, debugger).
_JOB_SWITCHES: Final = ((None, 0.7), ((False, False), 0.27), ((True, False), 0.025),
                        ((False, True), 0.005))  # fmt: skip
_RESTARTS: Final = (0.88, 0.07, 0.025, 0.012, 0.007, 0.003, 0.003)  # RestartTimes 0..6
_HISTORY_DEPTH: Final = 3  # HistoryPods levels kept for a pod that restarted that often
_POD_RETENTION: Final = 30 * 86_400  # finished jobs older than this list no pods
_POD_STATES: Final = (
    ("Running", "Normal"),
    ("Pending", "Normal"),
    ("Succeeded", "Normal"),
    ("Failed", "Normal"),
    ("Failed", "Evicted"),
    ("Stopped", "Normal"),
)
_POD_STATE_OF: Final = {  # pod state of a job's current pods, by job status
    "Running": 0,
    "Restarting": 1,
    "Stopping": 0,
    "SucceededReserving": 0,
    "FailedReserving": 3,
    "Succeeded": 2,
    "Failed": 3,
    "Stopped": 5,
}
_EVICTED: Final = 4
# Optional pod members: none, the profiling kinds, or the secondary (RDMA) interfaces.
_POD_EXTRAS: Final = (
    ("", 0.8),
    (',"supportedProfilingTypes":"sysom"', 0.1),
    (',"PodIps":[{"InterfaceName":"eth1","Ip":"192.168.10.23"},'
     '{"InterfaceName":"eth2","Ip":"192.168.11.23"}]', 0.1),
)  # fmt: skip
