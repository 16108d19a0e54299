# The DEKR baseline decoded as SAMKR is: with DEKR's heatmap matching
# (TEST.MATCH_HMP, see the SAMKR configs), so the pair compares under one
# test procedure. Test-only; train with the config without suffix.
_base_ = ['./dekr_hrnet-w48_8xb10-140e_coco-640x640.py']

model = dict(
    head=dict(
        decoder=dict(
            type='SPRHeatmapMatching',
            match_heatmap=True,
            match_max_distance=75,
            match_num_peaks=30)))
