"""SMS as the Chinese gateways take it: a registered template, its parameters, a signature.

Every message the system sends by SMS is one entry of `sms.catalogue` (a key, the default
text with `${name}` variables, the parameters the code passes), kept as a row of
`SmsTemplate` that city staff complete in the admin with the code the provider assigned on
registration (e.g. Aliyun's `SMS_123456789`) and the signature (签名). `sms.sending.send()`
builds the message and hands it to the configured backend (`sms.backends`).

This app depends on nothing else of the project, so any app may send SMS through it.
"""
