"""What we change in spyne: its SOAP 1.1 protocol writes through our compiled writer and words
faults as the screening does, it collects no garbage itself, and it does not log bad requests."""
from __future__ import annotations

import logging
import warnings

from lxml.builder import E

from lrs_ws.soap import writer

with warnings.catch_warnings():  # spyne 2.14 imports deprecated modules; nothing we can act on
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", ImportWarning)
    import spyne.const
    from spyne.protocol.soap import Soap11

# spyne runs a full gc.collect() at the end of a request once a second (to close uploaded files,
# which we never keep): some 80 ms with every thread of the worker stopped. Python's own
# generational collector is enough. (Read at each request, so set here after the imports.)
spyne.const.MIN_GC_INTERVAL = float("inf")

# spyne logs every Fault with a traceback; bad requests are normal traffic for a public service.
logging.getLogger("spyne.application").setLevel(logging.CRITICAL)
logging.getLogger("spyne.application.client").setLevel(logging.CRITICAL)
logging.getLogger("spyne.application.server").setLevel(logging.CRITICAL)


class LrsSoap11(Soap11):
    """Responses through the compiled writer (`lrs_ws.soap.writer`); faults as the screening
    writes them too: faultcode, faultstring, detail (no empty faultactor)."""

    compiled_writer = True  # False: spyne's own serializer (the tests compare the two)

    def to_parent(self, ctx, cls, inst, parent, ns, *args, **kwargs):
        plan = writer.plan_for(cls) if self.compiled_writer else None
        if plan is None:
            return super().to_parent(ctx, cls, inst, parent, ns, *args, **kwargs)
        name = cls.Attributes.sub_name or (args[0] if args else kwargs.get("name")) or cls.get_type_name()
        writer.write(plan, inst, parent, ns, name)

    def fault_to_parent(self, ctx, cls, inst, parent, ns, *args, **kwargs):
        subelts = [E("faultcode", f"{self.soap_env}:{inst.faultcode}"), E("faultstring", inst.faultstring)]
        return self._fault_to_parent_impl(ctx, cls, inst, parent, ns, subelts)
