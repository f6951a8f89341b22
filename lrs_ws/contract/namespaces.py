"""XML namespaces: those of the two LRS services (interface page, section 1) and those of the
standards our contract files are written in."""

# Standards
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TEMPURI = "http://tempuri.org/"

# Learner Register (/LearnerService.svc)
LEARNER = "http://api.lrs.miap.gov.uk/learner"
FINDMSG = "http://api.lrs.miap.gov.uk/findmsg"
REGMSG = "http://api.lrs.miap.gov.uk/regmsg"
BATCHMSG = "http://api.lrs.miap.gov.uk/batchmsg"
REPORTMSG = "http://api.lrs.miap.gov.uk/reportmsg"
VLDMSG = "http://api.lrs.miap.gov.uk/vldmsg"
EXCEPTIONS = "http://api.lrs.miap.gov.uk/exceptions"

# Learning records (/LearnerServiceR9.svc): wrappers and parameters in TEMPURI
QCF_MODEL = "http://api.lrs.qcf.gov.uk/model"
QCF_FAULTS = "http://api.lrs.qcf.gov.uk/faults"
QCF_INTERFACE = "http://schemas.datacontract.org/2004/07/Amor.Qcf.Service.Interface"
QCF_COMMON = "http://schemas.datacontract.org/2004/07/Amor.Qcf.Common"  # the other operations' credentials
MIAP_MODEL = "http://schemas.datacontract.org/2004/07/Amor.Qcf.MIAPModel"  # R9 LearnerByUln's Learner
MIAP_ENTITIES = "http://schemas.datacontract.org/2004/07/Amor.Qcf.MIAPModel.Entities"  # its base type
MS_ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"  # WCF lists (LinkedUlns)
MS_SERIALIZATION = "http://schemas.microsoft.com/2003/10/Serialization/"  # WCF types (char)
