-- Argo CD health check for sesmonitor.io/SesMonitor, read as kstatus reads it (Flux does the same):
--   Progressing  the operator has not acted on this generation yet, or Reconciling=True (retrying,
--                rolling out, waiting for the exporter's first reads from AWS);
--   Degraded     Stalled=True (needs a person: AWS AccessDenied or bad credentials, an image that
--                cannot be pulled, a crash loop, a refused spec), or Ready=False without either;
--   Healthy      Ready=True: the monitor works. A bad bounce rate is not Degraded: it is in the
--                BounceRateHealthy, ComplaintRateHealthy and AccountHealthy conditions and alerts.
-- The message is the deciding condition's. Runs without Lua's string library (Argo CD's default).
-- Installed as resource.customizations.health.sesmonitor.io_SesMonitor in argocd-cm
-- (deploy/gitops/argocd/argocd-cm-health.yaml; docs/install.md, "Health of SesMonitors in GitOps").
local hs = { status = "Progressing", message = "waiting for the operator to report the status" }
if obj.status == nil then
  return hs
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed ~= generation then
  -- kstatus's words
  hs.message = "SesMonitor generation is " .. generation .. ", but latest observed generation is " .. observed
  return hs
end
local found = {}
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type ~= nil then
      found[condition.type] = condition
    end
  end
end
local function said(condition)
  local reason = condition.reason or condition.type
  if condition.message == nil or condition.message == "" then
    return reason
  end
  return reason .. ": " .. condition.message
end
local stalled, reconciling, ready = found["Stalled"], found["Reconciling"], found["Ready"]
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = said(stalled)
elseif reconciling ~= nil and reconciling.status == "True" then
  hs.message = said(reconciling)
elseif ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = said(ready)
elseif ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = said(ready)
elseif ready ~= nil then
  hs.message = said(ready)
end
return hs
