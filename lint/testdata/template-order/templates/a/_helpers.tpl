apiVersion: v1
kind: ConfigMap
metadata:
  name: N_a__helpers_tpl
