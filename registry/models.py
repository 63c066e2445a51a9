"""A proxy of Application for the staff list of registry checks past the SLA."""

from subsidy.models import Application


class OverdueRegistryCheck(Application):
    class Meta:
        proxy = True
        verbose_name = "学历校核超时申领"
        verbose_name_plural = "学历校核超时申领"
