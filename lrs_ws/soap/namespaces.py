"""XML namespaces of the Learner Register service (interface page, section 1)."""

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
TEMPURI = "http://tempuri.org/"
LEARNER = "http://api.lrs.miap.gov.uk/learner"
FINDMSG = "http://api.lrs.miap.gov.uk/findmsg"
REGMSG = "http://api.lrs.miap.gov.uk/regmsg"
EXCEPTIONS = "http://api.lrs.miap.gov.uk/exceptions"
